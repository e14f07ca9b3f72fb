import { readdirSync, readFileSync } from 'node:fs';

/** A process and every process under it (an npx in front of node, a cluster), from /proc; [] off Linux. */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const tid of readdirSync(`/proc/${out[i]}/task`))
        out.push(
          ...readFileSync(`/proc/${out[i]}/task/${tid}/children`, 'utf8')
            .split(' ')
            .filter(Boolean)
            .map(Number),
        );
    } catch {
      // Gone, or no /proc.
    }
  }
  return out;
}

/** A process's peak resident set (VmHWM) in MiB; 0 when it is gone or /proc is absent. */
function peakRssMb(pid: number): number {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** The largest peak resident set among a process tree's processes (the worker's node, not the npx before it). */
export const treePeakRssMb = (pid: number) => Math.max(0, ...processTree(pid).map(peakRssMb));
