/**
 * An index of a list that only grows (a simulator's lines or records), by key: each lookup first indexes what was
 * appended since the last one, and a different or shorter list (a reset, a change set undone) is indexed again.
 * A large budget's rows are then found without reading every row for each.
 */
export function appendIndex<T>(keyOf: (item: T) => string): (list: readonly T[], key: string) => T[] {
  let index: { of: readonly T[]; size: number; byKey: Map<string, T[]> } | undefined;
  return (list, key) => {
    if (!index || index.of !== list || index.size > list.length)
      index = { of: list, size: 0, byKey: new Map() };
    for (; index.size < list.length; index.size++) {
      const item = list[index.size]!;
      const k = keyOf(item);
      const found = index.byKey.get(k);
      if (found) found.push(item);
      else index.byKey.set(k, [item]);
    }
    return index.byKey.get(key) ?? [];
  };
}
