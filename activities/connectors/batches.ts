import { type Readable } from 'node:stream';

/**
 * The records of an object-mode stream, in batches of what it has buffered (at most `size`): one await per
 * batch instead of one per record, which is what a bulk load of a million rows spends its time on otherwise.
 * Backpressure holds: the stream is read only as fast as the batches are taken. Its error is thrown here.
 */
export async function* inBatches<T>(stream: Readable, size: number): AsyncGenerator<T[]> {
  let failed: unknown;
  let ended = false;
  let wake: (() => void) | undefined;
  const onEvent = () => {
    wake?.();
    wake = undefined;
  };
  stream.on('readable', onEvent);
  stream.once('end', () => {
    ended = true;
    onEvent();
  });
  stream.once('error', (err) => {
    failed = err;
    onEvent();
  });
  try {
    for (;;) {
      if (failed) throw failed;
      const batch: T[] = [];
      let item: T | null;
      while (batch.length < size && (item = stream.read() as T | null) !== null) batch.push(item);
      if (batch.length) {
        yield batch;
        continue;
      }
      if (ended || stream.readableEnded) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    stream.off('readable', onEvent);
    if (!ended) stream.destroy();
  }
}
