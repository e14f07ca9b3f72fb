/**
 * Just enough of a Dynamics 365 OData service for the simulator, typed per entity so that it refuses what
 * the real service refuses: properties the entity does not have, literals of the wrong form (an enum
 * compared with a plain string, a date where the property is an Edm.DateTimeOffset), enum operators other
 * than eq/ne, and system query options it does not support. Behaviour follows
 * MicrosoftDocs/dynamics-365-unified-operations-public articles/fin-ops-core/dev-itpro/data-entities/odata.md
 * ("Enums are under namespace Microsoft.Dynamics.DataEntities", "The operations supported for enums are eq
 * and ne", server-driven paging, cross-company=true).
 */

export class ODataQueryError extends Error {}

export const ENUM_NAMESPACE = 'Microsoft.Dynamics.DataEntities';

export type EdmType =
  | 'Edm.String'
  | 'Edm.Decimal'
  | 'Edm.Int64'
  | 'Edm.Int32'
  | 'Edm.DateTimeOffset'
  | { enum: string; members: readonly string[] };

export interface EntityType {
  /** The entity set, as it appears in the URL. */
  set: string;
  keys: readonly string[];
  properties: Readonly<Record<string, EdmType>>;
}

export const NoYes: EdmType = { enum: 'NoYes', members: ['No', 'Yes'] };

type Value = string | number | boolean | null;
type Comparison = { field: string; op: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le'; value: Value };

const DATE_TIME_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const DECIMAL = /^-?\d+(\.\d+)?$/;
const INTEGER = /^-?\d+$/;

const typeName = (t: EdmType) => (typeof t === 'string' ? t : `${ENUM_NAMESPACE}.${t.enum}`);

function literalFor(entity: EntityType, field: string, raw: string, op: Comparison['op']): Value {
  const type = entity.properties[field];
  if (!type) {
    throw new ODataQueryError(
      `Could not find a property named '${field}' on type '${ENUM_NAMESPACE}.${entity.set}'.`,
    );
  }
  const incompatible = (found: string) =>
    new ODataQueryError(
      `A binary operator with incompatible types was detected. Found operand types '${typeName(type)}' and '${found}' for operator kind '${op}'.`,
    );
  if (raw === 'null') return null;
  if (typeof type !== 'string') {
    const m = /^([A-Za-z0-9_.]+)'([^']*)'$/.exec(raw);
    if (!m) throw incompatible(raw.startsWith("'") ? 'Edm.String' : 'Edm.Int32');
    if (m[1] !== `${ENUM_NAMESPACE}.${type.enum}`) throw incompatible(m[1]!);
    if (!type.members.includes(m[2]!)) {
      throw new ODataQueryError(`The string '${m[2]}' is not a valid enumeration type constant.`);
    }
    if (op !== 'eq' && op !== 'ne') {
      throw new ODataQueryError(`The operator '${op}' is not supported for enumeration types.`);
    }
    return m[2]!;
  }
  switch (type) {
    case 'Edm.String':
      if (!/^'.*'$/.test(raw)) throw incompatible(DECIMAL.test(raw) ? 'Edm.Decimal' : raw);
      return raw.slice(1, -1).replace(/''/g, "'");
    case 'Edm.Decimal':
    case 'Edm.Int64':
    case 'Edm.Int32':
      if (!(type === 'Edm.Decimal' ? DECIMAL : INTEGER).test(raw)) throw incompatible(raw);
      return raw;
    case 'Edm.DateTimeOffset':
      if (/^\d{4}-\d{2}-\d{2}$/.test(raw)) throw incompatible('Edm.Date');
      if (!DATE_TIME_OFFSET.test(raw)) throw incompatible(raw);
      return raw;
  }
}

export function parseFilter(entity: EntityType, filter: string | undefined): Comparison[] {
  if (!filter) return [];
  return filter.split(/\s+and\s+/i).map((clause) => {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s+(eq|ne|gt|ge|lt|le)\s+(.+?)\s*$/.exec(clause);
    if (!m) throw new ODataQueryError(`The query specified in the URI is not valid: ${clause}`);
    const op = m[2] as Comparison['op'];
    return { field: m[1]!, op, value: literalFor(entity, m[1]!, m[3]!, op) };
  });
}

/** Compares a stored value with a literal by the property's type; decimals and integers exactly. */
function compare(type: EdmType, stored: unknown, literal: Value): number {
  if (stored === null || stored === undefined || literal === null) {
    return stored === literal || (stored === undefined && literal === null) ? 0 : stored == null ? -1 : 1;
  }
  if (type === 'Edm.Decimal' || type === 'Edm.Int64' || type === 'Edm.Int32') {
    const scale = (s: string) => (s.split('.')[1] ?? '').length;
    const a = String(stored);
    const b = String(literal);
    const digits = Math.max(scale(a), scale(b));
    const big = (s: string) => {
      const [i, f = ''] = s.split('.');
      return BigInt(`${i}${f.padEnd(digits, '0')}`);
    };
    const d = big(a) - big(b);
    return d < 0n ? -1 : d > 0n ? 1 : 0;
  }
  if (type === 'Edm.DateTimeOffset') {
    return Math.sign(Date.parse(String(stored)) - Date.parse(String(literal)));
  }
  const l = String(stored);
  const r = String(literal);
  return l < r ? -1 : l > r ? 1 : 0;
}

const SUPPORTED_OPTIONS = new Set([
  '$filter',
  '$orderby',
  '$top',
  '$skip',
  '$count',
  '$select',
  '$skiptoken',
  '$format',
]);

export interface PageRequest {
  query: Record<string, unknown>;
  maxPageSize: number;
  /**
   * The records never change while this array is the one passed (a view rebuilt on every change): the filtered
   * and ordered rows of a query are then kept for its next pages instead of being found again for each.
   */
  immutable?: boolean;
}

const selections = new WeakMap<object, { key: string; rows: unknown[] }>();

/** Filters, orders and pages records; returns the page and, when more remain, the offset of the next one. */
export function query<T extends Record<string, unknown>>(
  entity: EntityType,
  records: readonly T[],
  { query: q, maxPageSize, immutable }: PageRequest,
): { page: T[]; next?: number; count: number } {
  const key = JSON.stringify(Object.entries(q).filter(([k]) => k !== '$skiptoken'));
  const kept = immutable ? selections.get(records) : undefined;
  const rows = kept?.key === key ? (kept.rows as T[]) : select(entity, records, q);
  if (immutable) selections.set(records, { key, rows });
  const offset = Number(typeof q.$skiptoken === 'string' ? q.$skiptoken : 0);
  const page = rows.slice(offset, offset + maxPageSize);
  const next = offset + maxPageSize < rows.length ? offset + maxPageSize : undefined;
  return { page, next, count: rows.length };
}

/** The records a query selects, filtered and ordered, after $skip and $top (before the page's $skiptoken). */
function select<T extends Record<string, unknown>>(
  entity: EntityType,
  records: readonly T[],
  q: Record<string, unknown>,
): T[] {
  for (const option of Object.keys(q)) {
    if (option.startsWith('$') && !SUPPORTED_OPTIONS.has(option)) {
      throw new ODataQueryError(`The query parameter '${option}' is not supported.`);
    }
  }
  const text = (name: string) => (typeof q[name] === 'string' ? q[name] : undefined);
  const filters = parseFilter(entity, text('$filter'));
  let rows = records.filter((r) =>
    filters.every(({ field, op, value }) => {
      const c = compare(entity.properties[field]!, r[field], value);
      return { eq: c === 0, ne: c !== 0, gt: c > 0, ge: c >= 0, lt: c < 0, le: c <= 0 }[op];
    }),
  );
  const orderby = text('$orderby');
  if (orderby) {
    const [field, dir] = orderby.trim().split(/\s+/) as [string, string | undefined];
    const type = entity.properties[field];
    if (!type) throw new ODataQueryError(`Could not find a property named '${field}'.`);
    const sign = dir?.toLowerCase() === 'desc' ? -1 : 1;
    rows = [...rows].sort((a, b) => sign * compare(type, a[field], b[field] as Value));
  }
  const skip = Number(text('$skip') ?? 0);
  const top = text('$top');
  return rows.slice(skip, top === undefined ? undefined : skip + Number(top));
}

/**
 * A record as the service writes it: with `IEEE754Compatible=true` in the request's media type, Edm.Int64
 * and Edm.Decimal travel as strings; without it, as JSON numbers (which is how cents get lost).
 */
export function serialise(
  entity: EntityType,
  record: Record<string, unknown>,
  ieee754: boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, type] of Object.entries(entity.properties)) {
    const v = record[name];
    if (v === undefined) continue;
    out[name] =
      v !== null && (type === 'Edm.Decimal' || type === 'Edm.Int64') ? (ieee754 ? String(v) : Number(v)) : v;
  }
  return out;
}

export type FieldIssue = { field: string; message: string };

/**
 * Checks a JSON body for create: every property must exist on the entity and be writable, with a value of
 * its type (an Int64 or Decimal as a string under IEEE754Compatible, a DateTimeOffset with its time, an
 * enum by member name). Returns the issues; empty means acceptable.
 */
export function checkWrite(
  entity: EntityType,
  body: unknown,
  rules: { writable: readonly string[]; required: readonly string[]; ieee754: boolean },
): FieldIssue[] {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    return [{ field: '(body)', message: 'must be a JSON object' }];
  }
  const issues: FieldIssue[] = [];
  const record = body as Record<string, unknown>;
  for (const [field, value] of Object.entries(record)) {
    if (field.startsWith('@odata.')) continue;
    const type = entity.properties[field];
    if (!type) {
      issues.push({
        field,
        message: `The property '${field}' does not exist on type '${ENUM_NAMESPACE}.${entity.set}'`,
      });
      continue;
    }
    if (!rules.writable.includes(field)) {
      issues.push({ field, message: 'is not writable through this entity' });
      continue;
    }
    const problem = valueProblem(type, value, rules.ieee754);
    if (problem) issues.push({ field, message: problem });
  }
  for (const field of rules.required) {
    if (record[field] === undefined || record[field] === null || record[field] === '') {
      issues.push({ field, message: 'is required' });
    }
  }
  return issues;
}

function valueProblem(type: EdmType, value: unknown, ieee754: boolean): string | undefined {
  if (value === null) return undefined;
  if (typeof type !== 'string') {
    return typeof value === 'string' && type.members.includes(value)
      ? undefined
      : `must be a member of ${ENUM_NAMESPACE}.${type.enum} (${type.members.join(', ')})`;
  }
  switch (type) {
    case 'Edm.String':
      return typeof value === 'string' ? undefined : 'must be a string';
    case 'Edm.DateTimeOffset':
      return typeof value === 'string' && DATE_TIME_OFFSET.test(value)
        ? undefined
        : `Cannot convert the literal '${String(value)}' to the expected type 'Edm.DateTimeOffset'`;
    case 'Edm.Int32':
      return Number.isInteger(value) ? undefined : 'must be an Edm.Int32';
    case 'Edm.Int64':
    case 'Edm.Decimal': {
      const pattern = type === 'Edm.Decimal' ? DECIMAL : INTEGER;
      if (typeof value === 'string') {
        if (!ieee754) return `a string ${type} needs IEEE754Compatible=true in the Content-Type`;
        return pattern.test(value) ? undefined : `must be an ${type}`;
      }
      if (ieee754) return `must be a string ${type} under IEEE754Compatible=true`;
      return typeof value === 'number' ? undefined : `must be an ${type}`;
    }
  }
}

/** True when the request's media type (Accept for answers, Content-Type for bodies) asks for IEEE754 strings. */
export const ieee754Requested = (mediaType: string | undefined) =>
  /IEEE754Compatible=true/i.test(mediaType ?? '');
