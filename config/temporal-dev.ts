import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { parse } from 'yaml';
import { z } from 'zod';
import { PROJECT_ROOT } from './paths';
import { fieldIssues } from '../domain/zod-issues';

/** temporal-dev.yaml: the one source of the dev server's settings, for the launcher and the tests alike. */

const SEARCH_ATTRIBUTE_TYPES = {
  Text: SearchAttributeType.TEXT,
  Keyword: SearchAttributeType.KEYWORD,
  Int: SearchAttributeType.INT,
  Double: SearchAttributeType.DOUBLE,
  Bool: SearchAttributeType.BOOL,
  Datetime: SearchAttributeType.DATETIME,
  KeywordList: SearchAttributeType.KEYWORD_LIST,
} as const;

const JsonValue: z.ZodType<unknown> = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.null(),
  z.array(z.unknown()),
  z.record(z.string(), z.unknown()),
]);

export const TemporalDevConfig = z
  .object({
    cli: z.object({ version: z.string().regex(/^v\d+\.\d+\.\d+$/, 'must be a tag such as v1.5.1') }).strict(),
    server: z
      .object({
        namespace: z.string().min(1),
        ip: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(1).max(65535),
        uiPort: z.number().int().min(1).max(65535),
        dbFilename: z.string().min(1).optional(),
        logLevel: z.enum(['debug', 'info', 'warn', 'error', 'never']).default('warn'),
      })
      .strict(),
    searchAttributes: z
      .record(
        z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/),
        z.enum(Object.keys(SEARCH_ATTRIBUTE_TYPES) as [keyof typeof SEARCH_ATTRIBUTE_TYPES]),
      )
      .default({}),
    dynamicConfig: z.record(z.string(), JsonValue).default({}),
  })
  .strict();
export type TemporalDevConfig = z.infer<typeof TemporalDevConfig>;

export const TEMPORAL_DEV_YAML = path.join(PROJECT_ROOT, 'temporal-dev.yaml');

export function parseTemporalDevConfig(text: string, source = 'temporal-dev.yaml'): TemporalDevConfig {
  const parsed = TemporalDevConfig.safeParse(parse(text));
  if (!parsed.success) {
    const fields = fieldIssues(parsed.error, '(root)').map((i) => `  ${i.field}: ${i.message}`);
    throw new Error(`${source} is invalid:\n${fields.join('\n')}`);
  }
  return parsed.data;
}

export function loadTemporalDevConfig(file = TEMPORAL_DEV_YAML): TemporalDevConfig {
  return parseTemporalDevConfig(readFileSync(file, 'utf8'), file);
}

export interface DevServerOverrides {
  ip?: string;
  port?: number;
  uiPort?: number;
  /** No Temporal UI (tests). */
  headless?: boolean;
  /** null keeps everything in memory (tests); a path is resolved against the project root. */
  dbFilename?: string | null;
}

/** `temporal server start-dev` reads no config file: this turns the YAML into its flags. */
export function startDevArgs(config: TemporalDevConfig, overrides: DevServerOverrides = {}): string[] {
  const s = config.server;
  const args = [
    'server',
    'start-dev',
    '--namespace',
    s.namespace,
    '--ip',
    overrides.ip ?? s.ip,
    '--port',
    String(overrides.port ?? s.port),
  ];
  if (overrides.headless) args.push('--headless');
  else args.push('--ui-port', String(overrides.uiPort ?? s.uiPort));
  const db = overrides.dbFilename === undefined ? s.dbFilename : overrides.dbFilename;
  if (db) args.push('--db-filename', path.resolve(PROJECT_ROOT, db));
  args.push('--log-level', s.logLevel);
  for (const [name, type] of Object.entries(config.searchAttributes))
    args.push('--search-attribute', `${name}=${type}`);
  for (const [key, value] of Object.entries(config.dynamicConfig))
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  return args;
}

export function searchAttributeKeys(
  config: TemporalDevConfig,
): ReturnType<typeof defineSearchAttributeKey>[] {
  return Object.entries(config.searchAttributes).map(([name, type]) =>
    defineSearchAttributeKey(name, SEARCH_ATTRIBUTE_TYPES[type]),
  );
}
