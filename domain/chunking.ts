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

/**
 * Splits items into consecutive chunks of whole units (runs of items with the same unit, which the caller keeps
 * together): a chunk takes units while they fit in `size`, and a unit larger than `size` is a chunk of its own.
 * For a target sent whole units (a scope it replaces, a line it sets), a unit split over two chunks would be sent
 * twice, the second time with the first chunk's part again. A pure function of (ordered items, size, units).
 */
export function chunkByUnit<T>(items: readonly T[], size: number, unitOf: (item: T) => string): T[][] {
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`chunk size must be a positive integer, got ${size}`);
  const units: T[][] = [];
  for (const item of items) {
    const last = units[units.length - 1];
    if (last && unitOf(last[0]!) === unitOf(item)) last.push(item);
    else units.push([item]);
  }
  const chunks: T[][] = [];
  for (const unit of units) {
    const last = chunks[chunks.length - 1];
    if (last && last.length + unit.length <= size) last.push(...unit);
    else chunks.push([...unit]);
  }
  return chunks;
}
