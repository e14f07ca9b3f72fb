/**
 * Just enough OData v4 query evaluation for the simulators: `$filter` with eq/ne/gt/ge/lt/le joined by
 * `and`, `$orderby`, `$top`, `$skip` and server-driven paging (`$skiptoken`). Unsupported syntax is refused
 * with a 400, as a real service would, rather than silently ignored.
 */

export class ODataQueryError extends Error {}

type Comparison = {
  field: string;
  op: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
  value: string | number | boolean | null;
};

function parseValue(raw: string): Comparison['value'] {
  if (/^'.*'$/.test(raw)) return raw.slice(1, -1).replace(/''/g, "'");
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (raw === 'null') return null;
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  // Edm.Date / DateTimeOffset literals compare as ISO strings.
  if (/^\d{4}-\d{2}-\d{2}(T[\d:.]+Z?)?$/.test(raw)) return raw;
  throw new ODataQueryError(`unsupported literal ${raw}`);
}

export function parseFilter(filter: string | undefined): Comparison[] {
  if (!filter) return [];
  return filter.split(/\s+and\s+/i).map((clause) => {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s+(eq|ne|gt|ge|lt|le)\s+(.+?)\s*$/.exec(clause);
    if (!m) throw new ODataQueryError(`unsupported $filter clause: ${clause}`);
    return { field: m[1]!, op: m[2] as Comparison['op'], value: parseValue(m[3]!) };
  });
}

function compare(a: unknown, b: Comparison['value']): number {
  if (typeof b === 'number') return Number(a) - b;
  const left = String(a ?? '');
  const right = String(b ?? '');
  // Dates given as 2027-01-01 compare with stored 2027-01-01T00:00:00Z by their date part.
  const l = /^\d{4}-\d{2}-\d{2}T/.test(left) && right.length === 10 ? left.slice(0, 10) : left;
  return l < right ? -1 : l > right ? 1 : 0;
}

export function matches(record: Record<string, unknown>, filters: readonly Comparison[]): boolean {
  return filters.every(({ field, op, value }) => {
    if (!(field in record)) throw new ODataQueryError(`property ${field} does not exist on this entity`);
    const c = compare(record[field], value);
    return { eq: c === 0, ne: c !== 0, gt: c > 0, ge: c >= 0, lt: c < 0, le: c <= 0 }[op];
  });
}

export interface PageRequest {
  filter?: string;
  orderby?: string;
  top?: string;
  skip?: string;
  skiptoken?: string;
  maxPageSize: number;
}

/** Filters, orders and pages records; returns the page and, when more remain, the offset of the next one. */
export function query<T extends Record<string, unknown>>(
  records: readonly T[],
  req: PageRequest,
): { page: T[]; next?: number; count: number } {
  let rows = records.filter((r) => matches(r, parseFilter(req.filter)));
  if (req.orderby) {
    const [field, dir] = req.orderby.trim().split(/\s+/) as [string, string | undefined];
    const sign = dir?.toLowerCase() === 'desc' ? -1 : 1;
    rows = [...rows].sort((a, b) => sign * compare(a[field], b[field] as Comparison['value']));
  }
  const skip = Number(req.skip ?? 0);
  rows = rows.slice(skip, req.top === undefined ? undefined : skip + Number(req.top));
  const count = rows.length;
  const offset = Number(req.skiptoken ?? 0);
  const page = rows.slice(offset, offset + req.maxPageSize);
  return { page, next: offset + req.maxPageSize < rows.length ? offset + req.maxPageSize : undefined, count };
}
