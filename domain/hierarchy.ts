/**
 * Effective-dated trees over a dimension's values (account groups such as "travel" under "operating
 * expenses", cost centers under divisions). Each row says where one node sits from one date until another
 * (valid_to exclusive); on any date a node has exactly one parent or is a root. A node may be a group that
 * no line books on (OPEX) or a value lines book on (640500).
 */

export interface HierarchyEdge {
  code: string;
  /** Null: a root on these dates. */
  parent: string | null;
  validFrom: string;
  validTo: string | null;
  name?: string;
}

/** The tree as of one date: each node's parent (null for a root). */
export type TreeAsOf = ReadonlyMap<string, string | null>;

export function treeAsOf(edges: readonly HierarchyEdge[], onDate: string): TreeAsOf {
  const tree = new Map<string, string | null>();
  for (const e of edges)
    if (e.validFrom <= onDate && (e.validTo === null || e.validTo > onDate)) tree.set(e.code, e.parent);
  return tree;
}

/** The node's ancestors, nearest first; stops at a cycle rather than looping (a bad load must not hang). */
export function ancestorsOf(tree: TreeAsOf, code: string): string[] {
  const out: string[] = [];
  const seen = new Set([code]);
  let at = tree.get(code) ?? null;
  while (at !== null && !seen.has(at)) {
    out.push(at);
    seen.add(at);
    at = tree.get(at) ?? null;
  }
  return out;
}

/** True when `code` is `node` or sits anywhere below it. */
export function isUnder(tree: TreeAsOf, code: string, node: string): boolean {
  return code === node || ancestorsOf(tree, code).includes(node);
}

/**
 * The node a value rolls up to at a level of the tree (0 = its root, 1 = the root's children, …), for
 * reports grouped by a hierarchy level; a value above that level (or not in the tree) stands for itself.
 */
export function rollUpTo(tree: TreeAsOf, code: string, level: number): string {
  const path = [code, ...ancestorsOf(tree, code)].reverse();
  return path[level] ?? code;
}

export interface TreeNode {
  code: string;
  name?: string;
  children: TreeNode[];
}

/** The tree as of one date as nested nodes, roots and children sorted by code, for reading. */
export function nestedTree(edges: readonly HierarchyEdge[], onDate: string): TreeNode[] {
  const tree = treeAsOf(edges, onDate);
  const names = new Map(edges.filter((e) => e.name).map((e) => [e.code, e.name!]));
  const nodes = new Map<string, TreeNode>();
  const node = (code: string) => {
    let n = nodes.get(code);
    if (!n) {
      n = { code, ...(names.has(code) ? { name: names.get(code)! } : {}), children: [] };
      nodes.set(code, n);
    }
    return n;
  };
  const roots: TreeNode[] = [];
  for (const code of [...tree.keys()].sort()) {
    const parent = tree.get(code)!;
    // A parent that is not itself a node on this date is shown as a root of its own.
    if (parent === null) roots.push(node(code));
    else {
      if (!tree.has(parent) && !nodes.has(parent)) roots.push(node(parent));
      node(parent).children.push(node(code));
    }
  }
  return roots.sort((a, b) => (a.code < b.code ? -1 : 1));
}

/**
 * Cycles a set of edges would make on any date they cover, as the codes around each (child to parent, from
 * the lowest code): a tree loaded from a source is refused whole when it has one.
 */
export function cyclesIn(edges: readonly HierarchyEdge[]): string[][] {
  const dates = [...new Set(edges.map((e) => e.validFrom))].sort();
  const found = new Map<string, string[]>();
  for (const d of dates) {
    const tree = treeAsOf(edges, d);
    for (const code of tree.keys()) {
      const path = [code];
      let at = tree.get(code) ?? null;
      while (at !== null && !path.includes(at)) {
        path.push(at);
        at = tree.get(at) ?? null;
      }
      if (at !== null) {
        const loop = path.slice(path.indexOf(at));
        // Each cycle once, read from its lowest code, child to parent.
        const start = loop.indexOf([...loop].sort()[0]!);
        const cycle = [...loop.slice(start), ...loop.slice(0, start)];
        const key = cycle.join('|');
        if (!found.has(key)) found.set(key, cycle);
      }
    }
  }
  return [...found.values()];
}
