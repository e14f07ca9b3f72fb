import { z } from 'zod';
import { hasStatus, httpJson, protocolFailure } from '../http';

/**
 * Oracle Fusion Cloud's REST framework, as its published reference describes it ("REST API for Oracle Fusion
 * Cloud Financials", docs.oracle.com/en/cloud/saas/financials/25d/farfa/): resources under
 * `/fscmRestApi/resources/11.13.18.05/`, collections answered as `{ items, count, hasMore, limit, offset,
 * links }` and paged by `limit`/`offset` until `hasMore` is false, filtered by `q` (row-match expressions) or a
 * named `finder` (`finder=Name;var=value,var2=value`), the framework's version chosen by the
 * `REST-Framework-Version` header.
 *
 * The version is pinned: without the header the server picks its default (1), whose `q` is query-by-example,
 * and versions change behaviour incompatibly ("Set the REST Framework Version"). Version 2 is the first whose
 * `q` takes row-match expressions (`LedgerId = 300000046975971 and ApplicationId = 101`); 3 turns expanded
 * children into collection objects, which closeloop does not expand.
 */

export const REST_PATH = '/fscmRestApi/resources/11.13.18.05';
export const FRAMEWORK_VERSION = '2';

export interface OracleRestConfig {
  baseUrl: string;
  username: string;
  password: string;
  timeoutMs: number;
  /** Items asked for per page (`limit`). Oracle's cap is not documented; third-party reports say 500. */
  pageSize: number;
}

/** The collection envelope every Fusion resource answers a GET on its collection with. */
const collectionOf = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    count: z.number().int().nonnegative(),
    hasMore: z.boolean(),
    limit: z.number().int().positive(),
    offset: z.number().int().nonnegative(),
  });

export interface CollectionQuery {
  /** A row-match expression (framework version 2 on). */
  q?: string;
  /** A finder and its variables, as `Name;var=value,var2=value`. */
  finder?: string;
  /** Only these attributes. */
  fields?: string[];
  /** Children to include in each item (`Child` or `Child.NestedChild`), as arrays under framework version 2. */
  expand?: string[];
  /** `Attr:asc,Attr2:desc`: a stable order, so offsets page the same rows while rows are added. */
  orderBy?: string;
}

export const SYSTEM = 'oracle';

export function createOracleRest(config: OracleRestConfig) {
  const base = `${config.baseUrl.replace(/\/$/, '')}${REST_PATH}`;
  const headers = {
    Authorization: `Basic ${Buffer.from(`${config.username}:${config.password}`).toString('base64')}`,
    'REST-Framework-Version': FRAMEWORK_VERSION,
  };

  /** One page of a collection at `offset` (`limit` items, the configured page size unless given), parsed. */
  async function page<T extends z.ZodType>(
    resource: string,
    item: T,
    query: CollectionQuery & { offset: number; limit?: number },
  ): Promise<{ items: z.infer<T>[]; hasMore: boolean }> {
    const params = new URLSearchParams({
      onlyData: 'true',
      limit: String(query.limit ?? config.pageSize),
      offset: String(query.offset),
    });
    if (query.q) params.set('q', query.q);
    if (query.finder) params.set('finder', query.finder);
    if (query.fields?.length) params.set('fields', query.fields.join(','));
    if (query.expand?.length) params.set('expand', query.expand.join(','));
    if (query.orderBy) params.set('orderBy', query.orderBy);
    const answer = await httpJson(
      {
        system: SYSTEM,
        method: 'GET',
        url: `${base}/${resource}?${params}`,
        headers,
        timeoutMs: config.timeoutMs,
      },
      collectionOf(item),
    );
    // A page that says there is more but holds nothing would be asked for again forever.
    if (answer.hasMore && answer.count === 0)
      throw protocolFailure(
        SYSTEM,
        `${resource} answered hasMore with an empty page at offset ${query.offset}`,
      );
    return { items: answer.items as z.infer<T>[], hasMore: answer.hasMore };
  }

  /** Every item of a collection, page by page (`limit`/`offset` until `hasMore` is false), each parsed. */
  async function* collection<T extends z.ZodType>(
    resource: string,
    item: T,
    query: CollectionQuery = {},
  ): AsyncGenerator<z.infer<T>[]> {
    for (let offset = 0; ;) {
      const { items, hasMore } = await page(resource, item, { ...query, offset });
      yield items;
      if (!hasMore) return;
      offset += items.length;
    }
  }

  /** One item of a resource by its key (`resource/{key}`); undefined when the server has none (404). */
  async function item<T extends z.ZodType>(
    resource: string,
    key: string,
    schema: T,
  ): Promise<z.infer<T> | undefined> {
    try {
      return (await httpJson(
        {
          system: SYSTEM,
          method: 'GET',
          url: `${base}/${resource}/${encodeURIComponent(key)}?onlyData=true`,
          headers,
          timeoutMs: config.timeoutMs,
        },
        schema,
      )) as z.infer<T>;
    } catch (err) {
      if (hasStatus(err, 404)) return undefined;
      throw err;
    }
  }

  /** POST of a new item to a collection: the created item, as the server answers it. */
  async function create<T extends z.ZodType>(
    resource: string,
    body: unknown,
    schema: T,
  ): Promise<z.infer<T>> {
    return (await httpJson(
      {
        system: SYSTEM,
        method: 'POST',
        url: `${base}/${resource}`,
        // The create operations closeloop calls list application/json as their media type.
        headers,
        body,
        timeoutMs: config.timeoutMs,
      },
      schema,
    )) as z.infer<T>;
  }

  return { page, collection, item, create };
}

export type OracleRest = ReturnType<typeof createOracleRest>;
