export { AnaplanConnectorConfig, createAnaplanConnector, exportName } from './connector';
