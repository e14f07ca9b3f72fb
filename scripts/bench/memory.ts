import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

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

/** A process's resident set now (VmRSS) or at its peak (VmHWM) in MiB; 0 when it is gone or /proc is absent. */
function rssMb(pid: number, which: 'VmRSS' | 'VmHWM'): number {
  try {
    const kb = new RegExp(`${which}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : 0;
  } catch {
    return 0;
  }
}
const peakRssMb = (pid: number) => rssMb(pid, 'VmHWM');

/** The largest peak resident set among a process tree's processes (the worker's node, not the npx before it). */
export const treePeakRssMb = (pid: number) => Math.max(0, ...processTree(pid).map(peakRssMb));

/** The largest resident set now among a process tree's processes. */
export const treeRssMb = (pid: number) => Math.max(0, ...processTree(pid).map((p) => rssMb(p, 'VmRSS')));

/**
 * Starts a process tree's peak resident sets again from what each holds now (Linux: `5` to clear_refs), so a
 * phase's peak is measured on its own; false where the kernel does not allow it.
 */
export function resetTreePeakRss(pid: number): boolean {
  try {
    for (const p of processTree(pid)) writeFileSync(`/proc/${p}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
