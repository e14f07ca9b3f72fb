import { createAnaplanConnector, type AnaplanConnectorConfig } from '../../activities/connectors/anaplan';
import { type LedgerQuery, type LedgerSource } from '../../activities/connectors/types';

/** An Anaplan adapter pointed at a simulator listening at `url`, with the simulator's default credentials. */
export const anaplanConnectorFor = (url: string, over: Partial<AnaplanConnectorConfig> = {}) =>
  createAnaplanConnector({
    authUrl: url,
    apiUrl: `${url}/2/0`,
    username: 'closeloop',
    password: 'dev-password',
    workspaceId: '8a81b01068d1f2c0',
    modelId: '75A40874E6B64FA3AE0743278996850F',
    timeoutMs: 1000,
    pollIntervalMs: 5,
    taskTimeoutMs: 2000,
    ...over,
  });

/** Every page of an actuals sync from the query's watermark, as the activity reads them, with the last watermark. */
export async function syncAllActuals(erp: Pick<LedgerSource, 'fetchActualsPage'>, query: LedgerQuery) {
  const pages = [];
  let cursor: string | undefined;
  do {
    const page = await erp.fetchActualsPage(query, cursor);
    pages.push(page);
    cursor = page.cursor;
  } while (cursor);
  return { pages, lines: pages.flatMap((p) => p.lines), watermark: pages.at(-1)!.watermark };
}
