import { z } from 'zod';
import { FileLayout } from './file-layout';

/**
 * A file feed: an inbox closeloop watches for one producer's files (a legacy ERP's month-end ledger extract, a
 * planner's export), declared as data. docs/file-interfaces.md is the contract producers follow.
 *
 * A file is complete when the producer says so, by one of two conventions:
 * - `rename`: it is written under a temporary name (a leading `.`, or ending `.tmp`, `.part` or `.filepart`) and
 *   renamed when whole; a layout with a trailer record also needs the trailer as the last line;
 * - `control-file`: a control file `<name>.ctl` is written after the file, naming its row count and control total
 *   (and optionally its SHA-256 and who submitted it).
 * Either way a file modified within the last `settleSeconds` is still growing and is left alone until the next
 * pickup.
 */

export const FEED_KINDS = ['actuals'] as const;
export type FeedKind = (typeof FEED_KINDS)[number];

/** Fields of an actuals record with a meaning of their own; every other field is a dimension (account, …). */
export const ACTUALS_FIELDS = {
  required: ['documentId', 'lineNo', 'postingDate', 'amount', 'currency', 'account'],
  optional: ['revision', 'description'],
} as const;

export const FeedCode = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'letters, digits, - and _, at most 64');

export const FeedDefinition = z
  .object({
    kind: z.enum(FEED_KINDS),
    transport: z.discriminatedUnion('type', [
      z.object({
        type: z.literal('local'),
        /** The inbox folder; archive/ and rejected/ are made inside it. */
        path: z.string().min(1),
      }),
      z.object({
        type: z.literal('sftp'),
        host: z.string().min(1),
        port: z.number().int().min(1).max(65535).default(22),
        username: z.string().min(1),
        /** The inbox directory on the server (absolute); archive/ and rejected/ are made inside it. */
        path: z.string().startsWith('/', 'an absolute path on the server'),
        /** Where the worker finds the private key it authenticates with (never the key itself: not stored). */
        privateKeyFile: z.string().min(1),
        /** The server's public host key as known_hosts holds it (`ssh-ed25519 AAAA…`): checked at each connection. */
        hostKey: z
          .string()
          .refine((k) => hostKeyBlob(k).length > 0, 'an OpenSSH public key: `<type> <base64>`'),
      }),
    ]),
    layout: FileLayout,
    readiness: z.enum(['rename', 'control-file']).default('rename'),
    /** A file changed more recently than this is still being written. */
    settleSeconds: z.number().int().min(0).max(3600).default(5),
    /** How often the inbox is looked at (a Temporal Schedule), e.g. `5m`. */
    every: z
      .string()
      .regex(/^\d+(s|m|h)$/, 'a duration such as 30s, 5m or 1h')
      .default('5m'),
  })
  .superRefine((d, ctx) => {
    const names = new Set(d.layout.fields.map((f) => f.name));
    for (const required of ACTUALS_FIELDS.required)
      if (!names.has(required))
        ctx.addIssue({
          code: 'custom',
          path: ['layout', 'fields'],
          message: `an actuals feed's layout needs a field named ${required}`,
        });
    d.layout.fields.forEach((f, i) => {
      const must =
        f.name === 'amount'
          ? 'decimal'
          : f.name === 'postingDate'
            ? 'date'
            : f.name === 'lineNo'
              ? 'decimal'
              : null;
      if (must && f.type !== must)
        ctx.addIssue({
          code: 'custom',
          path: ['layout', 'fields', i, 'type'],
          message: `${f.name} must be a ${must}`,
        });
    });
    if (d.layout.format === 'fixed' && d.readiness === 'rename' && d.layout.recordType?.trailer) {
      const trailer = new Set(d.layout.trailerFields.map((f) => f.name));
      for (const n of ['count', 'total'])
        if (!trailer.has(n))
          ctx.addIssue({
            code: 'custom',
            path: ['layout', 'trailerFields'],
            message: `the trailer needs a field named ${n}`,
          });
    }
    if (d.layout.format === 'csv' && d.readiness === 'rename')
      ctx.addIssue({
        code: 'custom',
        path: ['readiness'],
        message: 'a CSV file has no trailer to be checked against: its producer sends a control file',
      });
  });
export type FeedDefinition = z.infer<typeof FeedDefinition>;

/** The key blob of an OpenSSH public key line (`ssh-ed25519 AAAA… comment`); empty when it is not one. */
export function hostKeyBlob(line: string): Buffer {
  const [type, base64] = line.trim().split(/\s+/);
  if (!type || !base64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return Buffer.alloc(0);
  const blob = Buffer.from(base64, 'base64');
  // The blob begins with its own key type, length-prefixed: a line whose two halves disagree is not a key.
  const length = blob.length >= 4 ? blob.readUInt32BE(0) : 0;
  return blob.subarray(4, 4 + length).toString('latin1') === type ? blob : Buffer.alloc(0);
}

/** A temporary name: a file still being written under the rename convention, never picked up. */
export const isTemporaryName = (name: string) => name.startsWith('.') || /\.(tmp|part|filepart)$/i.test(name);

export const CONTROL_SUFFIX = '.ctl';

/**
 * A control file: `key=value` lines (blank lines and `#` comments ignored): `rows` (detail records), `total` (the
 * sum of their amounts, a decimal with `.`), optionally `sha256` (of the file's bytes) and `submittedBy`.
 */
export const ControlFile = z.object({
  rows: z.string().regex(/^\d+$/, 'a whole number').transform(Number),
  total: z.string().regex(/^-?\d+(\.\d+)?$/, 'a decimal with a point'),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/i, '64 hexadecimal digits')
    .transform((s) => s.toLowerCase())
    .optional(),
  submittedBy: z.string().min(1).optional(),
});
export type ControlFile = z.infer<typeof ControlFile>;

export function parseControlFile(text: string): ReturnType<typeof ControlFile.safeParse> {
  const fields: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const at = line.indexOf('=');
    if (at > 0) fields[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return ControlFile.safeParse(fields);
}

/** Decimals a control total is summed at: exact for any amount a layout reads (at most 6 implied decimals). */
const SCALE = 6;

/** A decimal string as an integer at SCALE decimals, for exact control totals. */
export function scaledDecimal(value: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(value);
  if (!m) throw new RangeError(`not a decimal: ${value}`);
  const fraction = (m[3] ?? '').padEnd(SCALE, '0');
  if (fraction.length > SCALE) throw new RangeError(`more than ${SCALE} decimals: ${value}`);
  const n = BigInt(m[2]! + fraction);
  return m[1] ? -n : n;
}

/** An integer at SCALE decimals back as a decimal string without trailing zeros. */
export function formatScaled(n: bigint): string {
  const negative = n < 0n;
  const digits = (negative ? -n : n).toString().padStart(SCALE + 1, '0');
  const whole = digits.slice(0, -SCALE);
  const fraction = digits.slice(-SCALE).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}
