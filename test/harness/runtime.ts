import { DefaultLogger, Runtime } from '@temporalio/worker';

let installed = false;

/** Workers log every state change at INFO; tests want only errors (failures are asserted, not logged). */
export function quietRuntime(): void {
  if (installed) return;
  installed = true;
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // a runtime already exists in this process
  }
}
