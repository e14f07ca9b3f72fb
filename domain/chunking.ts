/**
 * Splits items into consecutive chunks of at most `size`. Publication keys include the chunk index, so the
 * split must be a pure function of (ordered lines, size): the same inputs always give the same chunks.
 */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`chunk size must be a positive integer, got ${size}`);
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

export function chunkCount(length: number, size: number): number {
  return Math.ceil(length / size);
}
