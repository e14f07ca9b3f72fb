import cluster from 'node:cluster';
import { type RunningServer } from './listen';

/**
 * Serves the API from `count` processes behind one port: the first process forks the others (node:cluster),
 * each opens its own database pool and cache and listens, and connections are handed to them in turn. What
 * one process changes, the others obey at once because the database decides every reservation: freezes and
 * period locks are read inside the decision, and a control-model change bumps a version the decision checks.
 * `announce` runs once, in the first process, when every process is listening.
 */
export async function serveInProcesses(
  count: number,
  serve: () => Promise<{ server: RunningServer; description: string; stop: () => Promise<void> }>,
  announce: (url: string, description: string) => void,
): Promise<void> {
  if (count <= 1 || !cluster.isPrimary) {
    const { server, description, stop } = await serve();
    if (cluster.isWorker) process.send?.({ listening: server.url, description });
    else announce(server.url, description);
    const exit = () => void stop().then(() => process.exit(0));
    process.once('SIGINT', exit);
    process.once('SIGTERM', exit);
    return;
  }
  const workers = Array.from({ length: count }, () => cluster.fork());
  const listening = await Promise.all(
    workers.map(
      (w) =>
        new Promise<{ listening: string; description: string }>((resolve, reject) => {
          w.once('exit', (code) => reject(new Error(`an API process exited with ${code} before listening`)));
          w.on('message', (m: { listening?: string; description: string }) => {
            if (m.listening) resolve({ listening: m.listening, description: m.description });
          });
        }),
    ),
  );
  announce(listening[0]!.listening, listening[0]!.description);
  // One process gone leaves the port served by the rest; the whole API stops when asked.
  const stop = () => {
    for (const w of workers) w.process.kill('SIGTERM');
    void Promise.all(workers.map((w) => new Promise((r) => w.once('exit', r)))).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
