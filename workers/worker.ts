import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { type ActivityDeps, createActivities } from '../activities';

export interface WorkerDeps extends ActivityDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** A prebuilt bundle (tests build one per run); without it the worker bundles `workflows/` itself. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

/** A worker for every closeloop workflow and activity; dependencies are built by the caller, once. */
export async function createWorker(deps: WorkerDeps): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    ...(deps.workflowBundle
      ? { workflowBundle: deps.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
    activities: createActivities(deps),
    // A workflow cached on a worker that died is handed to another after this long, not the default 10 s.
    stickyQueueScheduleToStartTimeout: '3 seconds',
  });
}
