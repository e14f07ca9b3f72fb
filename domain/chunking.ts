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

/** A chunk as a range of the numbers of its items (a publication's line numbers), inclusive. */
export interface ChunkBounds {
  first: number;
  last: number;
  count: number;
}

/**
 * Splits numbered items, pushed one by one in order, into consecutive chunks of whole units (runs of items with
 * the same unit, which the caller keeps together): a chunk takes units while they fit in `size`, and a unit larger
 * than `size` is a chunk of its own. For a target sent whole units (a scope it replaces, a line it sets), a unit
 * split over two chunks would be sent twice, the second time with the first chunk's part again. Only the chunks'
 * bounds are kept, so a publication of any size is chunked while its lines stream past. A pure function of
 * (ordered items, size, units); an item of a unit of its own (its number as its unit) chunks as `chunk` does.
 */
export function unitChunker(size: number): {
  push(itemNo: number, unit: string): void;
  finish(): ChunkBounds[];
} {
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`chunk size must be a positive integer, got ${size}`);
  const chunks: ChunkBounds[] = [];
  let unit: (ChunkBounds & { key: string }) | undefined;
  const closeUnit = () => {
    if (!unit) return;
    const last = chunks[chunks.length - 1];
    if (last && last.count + unit.count <= size) {
      last.last = unit.last;
      last.count += unit.count;
    } else chunks.push({ first: unit.first, last: unit.last, count: unit.count });
    unit = undefined;
  };
  return {
    push(itemNo, key) {
      if (unit && unit.key === key) {
        unit.last = itemNo;
        unit.count++;
        return;
      }
      closeUnit();
      unit = { key, first: itemNo, last: itemNo, count: 1 };
    },
    finish() {
      closeUnit();
      return chunks;
    },
  };
}
