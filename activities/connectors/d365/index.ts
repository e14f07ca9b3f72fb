export { createD365Connector, D365ConnectorConfig } from './connector';
