import { readFile } from 'node:fs/promises';
import { Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { type Config } from './index';

/**
 * Connection options for the client (API, CLI) and the worker, from one config: the local dev server by
 * default; a Temporal cluster with mTLS, or Temporal Cloud with an API key, by environment.
 */
async function tlsOptions(t: Config['temporal']) {
  if (!t.tls) return undefined;
  if (t.tlsCertPath && t.tlsKeyPath) {
    return { clientCertPair: { crt: await readFile(t.tlsCertPath), key: await readFile(t.tlsKeyPath) } };
  }
  return true as const;
}

/**
 * The API answers people: when Temporal is down it should say 503 within a couple of seconds rather than
 * retry for the SDK's default of about a minute.
 */
export const clientRetryInterceptor = () =>
  makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 3 }));

export async function connectClient(t: Config['temporal']): Promise<Connection> {
  return Connection.connect({
    address: t.address,
    interceptors: [clientRetryInterceptor()],
    tls: await tlsOptions(t),
    apiKey: t.apiKey,
    metadata: t.apiKey ? { 'temporal-namespace': t.namespace } : undefined,
  });
}

export async function connectWorker(t: Config['temporal']): Promise<NativeConnection> {
  return NativeConnection.connect({
    address: t.address,
    tls: await tlsOptions(t),
    apiKey: t.apiKey,
    metadata: t.apiKey ? { 'temporal-namespace': t.namespace } : undefined,
  });
}
