import path from 'node:path';
import { type Config } from '../../config';
import { createAnaplanSimulator } from '../../simulators/anaplan';
import { createD365Simulator } from '../../simulators/d365';
import { seedServicesCompany } from '../../simulators/scenario/seed';

/**
 * The embedded Dynamics 365 and Anaplan simulators on their configured ports, seeded with the services
 * company. State is kept under <data dir>/simulators/ (like the dev server's database), so a restart remembers
 * what was posted.
 */
export async function startSimulators(config: Config, stateDir = path.join(config.dataDir, 'simulators')) {
  const d365 = createD365Simulator({ stateFile: path.join(stateDir, 'd365.json') });
  const anaplan = createAnaplanSimulator({ stateFile: path.join(stateDir, 'anaplan.json') });
  const d365Server = await d365.listen(config.simulators.d365Port);
  try {
    const anaplanServer = await anaplan.listen(config.simulators.anaplanPort);
    seedServicesCompany({ d365, anaplan });
    return {
      d365: d365Server,
      anaplan: anaplanServer,
      stop: async () => {
        await anaplanServer.close();
        await d365Server.close();
      },
    };
  } catch (err) {
    await d365Server.close();
    throw err;
  }
}
