import { createAnaplanConnector, type AnaplanConnectorConfig } from '../../activities/connectors/anaplan';

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
