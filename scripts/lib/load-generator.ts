import { ensureGoTool } from './go-tool';

/**
 * The open-loop load generator: vegeta (github.com/tsenart/vegeta), built with Go like the Temporal CLI. It
 * sends at a constant rate whatever the answers' latency and measures each request from its intended send
 * time, so a slow server cannot hide its queueing (no coordinated omission). VEGETA_PATH overrides the build.
 */
export const VEGETA = {
  label: 'vegeta load generator',
  binary: 'vegeta',
  module: 'github.com/tsenart/vegeta/v12',
  version: 'v12.13.0',
  pathVariable: 'VEGETA_PATH',
};

export function ensureVegeta(log?: (line: string) => void): Promise<string> {
  return ensureGoTool(VEGETA, log);
}
