import { startChild } from '@temporalio/workflow';

/** bench:close's baseline: a child that does nothing. */
export async function noopChild(): Promise<string> {
  return 'done';
}

/** bench:close's baseline: the same fan-out as the close (children started in batches, results gathered), doing nothing. */
export async function noopFanOut(input: { count: number; batch: number; prefix: string }): Promise<number> {
  const ended: Promise<string>[] = [];
  for (let i = 0; i < input.count; i += input.batch) {
    const handles = await Promise.all(
      Array.from({ length: Math.min(input.batch, input.count - i) }, (_, j) =>
        startChild(noopChild, { workflowId: `${input.prefix}:${String(i + j).padStart(4, '0')}` }),
      ),
    );
    ended.push(...handles.map((h) => h.result()));
  }
  return (await Promise.all(ended)).length;
}
