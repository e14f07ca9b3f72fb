import { type Config } from '../../config';
import { createAnaplanConnector } from './anaplan';
import { createD365Connector } from './d365';
import { type ErpConnector, type PlanningConnector } from './types';

/** Builds the configured connectors once; real endpoints and the embedded simulators differ only in URLs. */
export function createConnectors(config: Config): {
  erps: Record<string, ErpConnector>;
  planning: PlanningConnector;
} {
  return {
    erps: {
      d365: createD365Connector({ ...config.d365, dimensionFormat: ['account', 'costCenter'] }),
    },
    planning: createAnaplanConnector(config.anaplan),
  };
}
