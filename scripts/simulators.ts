import { loadConfig } from '../config';
import { localApiUrl, startSimulators } from './lib/simulators';

/**
 * npm run simulators — the Dynamics 365, Anaplan and procurement simulators alone, on their configured ports, for running
 * workers, the API and the dev server as separate processes (as production does). Ctrl-C stops them.
 */
async function main() {
  const config = loadConfig();
  const sims = await startSimulators(config, process.env.CLOSELOOP_API_URL ?? localApiUrl(config));
  console.log(
    `[closeloop] Dynamics 365 simulator ${sims.d365.url}  ·  Anaplan simulator ${sims.anaplan.url}  ·  Adaptive Planning simulator ${sims.adaptive.url}  ·  procurement simulator ${sims.procurement.url}`,
  );
  const stop = () => void sims.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error(
    `[closeloop] simulators failed to start: ${err instanceof Error ? err.message : String(err)}`,
  );
  process.exit(1);
});
