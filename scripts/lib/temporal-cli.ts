import { loadTemporalDevConfig } from '../../config/temporal-dev';
import { ensureGoTool, goToolCacheDir } from './go-tool';

/** The Temporal CLI at the version temporal-dev.yaml pins (TEMPORAL_CLI_PATH overrides). */
const temporalCli = (version: string) => ({
  label: 'Temporal CLI',
  binary: 'temporal',
  module: 'github.com/temporalio/cli/cmd/temporal',
  version,
  pathVariable: 'TEMPORAL_CLI_PATH',
});

export function cacheDir(version: string): string {
  return goToolCacheDir(temporalCli(version));
}

export async function ensureTemporalCli(
  opts: { version?: string; log?: (line: string) => void } = {},
): Promise<string> {
  return ensureGoTool(temporalCli(opts.version ?? loadTemporalDevConfig().cli.version), opts.log);
}
