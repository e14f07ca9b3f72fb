import iconv from 'iconv-lite';
import { z } from 'zod';

/**
 * How a file from a legacy system or a planner is laid out, declared as data (a feed's layout), so a new
 * producer is a row of configuration rather than code. Two forms:
 *
 * - `csv`: delimited, with a header row whose column names map to canonical fields (the header contract: every
 *   mapped column must be present; others are ignored).
 * - `fixed`: fixed-width records, each field at a position and length (1-based, as mainframe copybooks and
 *   legacy ERP export specifications number them), numbers with implied decimals and a sign that is leading,
 *   trailing or overpunched on the last digit (signed zoned decimal), optionally a record type per line
 *   (header, detail, trailer).
 *
 * Either may be in UTF-8 (with or without a byte-order mark) or Windows-1252, and write amounts with a decimal
 * comma. A value is read to a canonical string (a decimal string for an amount, an ISO date for a date): never
 * through a float.
 */

export const FILE_ENCODINGS = ['utf-8', 'windows-1252'] as const;
export type FileEncoding = (typeof FILE_ENCODINGS)[number];

const FieldName = z.string().regex(/^[a-zA-Z][a-zA-Z0-9]*$/, 'a field name is letters and digits');

const FieldType = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({
    type: z.literal('decimal'),
    /** Digits after an implied decimal point (a fixed field written `0001234` with 2 is 12.34). */
    impliedDecimals: z.number().int().min(0).max(6).default(0),
    /**
     * Where the sign is: `overpunch` encodes it in the last character (`{`, `A`–`I` positive 0–9; `}`, `J`–`R`
     * negative 0–9), `leading`/`trailing` is a `+` or `-` before or after the digits, `none` is unsigned.
     */
    sign: z.enum(['none', 'leading', 'trailing', 'overpunch']).default('leading'),
  }),
  z.object({ type: z.literal('date'), format: z.enum(['YYYYMMDD', 'YYYY-MM-DD', 'DD.MM.YYYY']) }),
]);

const FixedField = z.intersection(
  z.object({
    name: FieldName,
    /** 1-based position of the field's first character. */
    start: z.number().int().min(1),
    length: z.number().int().min(1),
  }),
  FieldType,
);

const CsvField = z.intersection(
  z.object({
    name: FieldName,
    /** The header's name for the column. */
    column: z.string().min(1),
  }),
  FieldType,
);

const Common = {
  encoding: z.enum(FILE_ENCODINGS).default('utf-8'),
  /** How amounts write their decimals: `,` for a decimal comma (thousands separators are refused). */
  decimalSeparator: z.enum(['.', ',']).default('.'),
};

export const FixedLayout = z
  .object({
    format: z.literal('fixed'),
    ...Common,
    /**
     * Where a line's record type is and what it means; absent: every line is a detail. A trailer carries the
     * detail count and total the file is checked against.
     */
    recordType: z
      .object({
        start: z.number().int().min(1),
        length: z.number().int().min(1),
        header: z.string().min(1).optional(),
        detail: z.string().min(1),
        trailer: z.string().min(1).optional(),
      })
      .optional(),
    fields: z.array(FixedField).min(1),
    /** The trailer's fields (its record count and control total, by name `count` and `total`). */
    trailerFields: z.array(FixedField).default([]),
  })
  .superRefine((l, ctx) => {
    const names = new Set<string>();
    l.fields.forEach((f, i) => {
      if (names.has(f.name))
        ctx.addIssue({
          code: 'custom',
          path: ['fields', i, 'name'],
          message: `field ${f.name} is declared twice`,
        });
      names.add(f.name);
    });
    if (l.trailerFields.length && !l.recordType?.trailer)
      ctx.addIssue({
        code: 'custom',
        path: ['trailerFields'],
        message: 'trailer fields need recordType.trailer to tell the trailer from a detail',
      });
  });
export type FixedLayout = z.infer<typeof FixedLayout>;

export const CsvLayout = z.object({
  format: z.literal('csv'),
  ...Common,
  delimiter: z.enum([',', ';', '|', '\t']).default(','),
  fields: z.array(CsvField).min(1),
});
export type CsvLayout = z.infer<typeof CsvLayout>;

export const FileLayout = z.union([FixedLayout, CsvLayout]);
export type FileLayout = z.infer<typeof FileLayout>;

type Field = z.infer<typeof FixedField> | z.infer<typeof CsvField>;

/** A field that could not be read, named with its value and why. */
export interface FieldError {
  field: string;
  value: string;
  reason: string;
}

export type ReadRecord =
  | { kind: 'header' }
  | { kind: 'detail'; values: Record<string, string> }
  | { kind: 'trailer'; values: Record<string, string> }
  | { kind: 'invalid'; errors: FieldError[] };

const OVERPUNCH_POSITIVE = '{ABCDEFGHI';
const OVERPUNCH_NEGATIVE = '}JKLMNOPQR';

/**
 * A number as a legacy file writes it, read to a decimal string: implied decimals, a decimal comma, a leading or
 * trailing sign, or a sign overpunched on the last digit. Undefined when it is not such a number.
 */
export function readDecimal(
  raw: string,
  opts: {
    impliedDecimals: number;
    sign: 'none' | 'leading' | 'trailing' | 'overpunch';
    decimalSeparator: '.' | ',';
  },
): string | undefined {
  let text = raw.trim();
  let negative = false;
  if (opts.sign === 'overpunch') {
    const last = text.slice(-1);
    const positive = OVERPUNCH_POSITIVE.indexOf(last);
    const minus = OVERPUNCH_NEGATIVE.indexOf(last);
    if (positive >= 0) text = text.slice(0, -1) + String(positive);
    else if (minus >= 0) {
      text = text.slice(0, -1) + String(minus);
      negative = true;
    } else if (!/\d$/.test(last)) return undefined;
  } else if (opts.sign === 'leading' && /^[+-]/.test(text)) {
    negative = text.startsWith('-');
    text = text.slice(1).trim();
  } else if (opts.sign === 'trailing' && /[+-]$/.test(text)) {
    negative = text.endsWith('-');
    text = text.slice(0, -1).trim();
  }
  const separator = opts.decimalSeparator === ',' ? ',' : '.';
  const pattern = new RegExp(`^(\\d+)(?:\\${separator}(\\d+))?$`);
  const m = pattern.exec(text);
  if (!m) return undefined;
  let [, whole, fraction = ''] = m as unknown as [string, string, string | undefined];
  if (opts.impliedDecimals) {
    if (fraction) return undefined; // both an implied and a written decimal point: ambiguous
    const digits = whole.padStart(opts.impliedDecimals + 1, '0');
    whole = digits.slice(0, -opts.impliedDecimals);
    fraction = digits.slice(-opts.impliedDecimals);
  }
  whole = whole.replace(/^0+(?=\d)/, '');
  const value = fraction ? `${whole}.${fraction}` : whole;
  const zero = /^[0.]+$/.test(value);
  return negative && !zero ? `-${value}` : value;
}

function readDate(raw: string, format: 'YYYYMMDD' | 'YYYY-MM-DD' | 'DD.MM.YYYY'): string | undefined {
  const text = raw.trim();
  const m =
    format === 'YYYYMMDD'
      ? /^(\d{4})(\d{2})(\d{2})$/.exec(text)
      : format === 'YYYY-MM-DD'
        ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(text)
        : /^(\d{2})\.(\d{2})\.(\d{4})$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d] = format === 'DD.MM.YYYY' ? [m[3]!, m[2]!, m[1]!] : [m[1]!, m[2]!, m[3]!];
  const iso = `${y}-${mo}-${d}`;
  const date = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === iso ? iso : undefined;
}

function readField(field: Field, raw: string, decimalSeparator: '.' | ','): string | FieldError {
  if (field.type === 'text') return raw.trim();
  if (field.type === 'date') {
    const date = readDate(raw, field.format);
    return date ?? { field: field.name, value: raw, reason: `not a date as ${field.format}` };
  }
  const value = readDecimal(raw, { ...field, decimalSeparator });
  return (
    value ?? {
      field: field.name,
      value: raw,
      reason: `not a number${field.impliedDecimals ? ` with ${field.impliedDecimals} implied decimals` : ''}${field.sign === 'overpunch' ? ', sign overpunched' : ''}${decimalSeparator === ',' ? ', decimal comma' : ''}`,
    }
  );
}

function readFields(fields: readonly Field[], raws: readonly string[], decimalSeparator: '.' | ',') {
  const values: Record<string, string> = {};
  const errors: FieldError[] = [];
  fields.forEach((f, i) => {
    const read = readField(f, raws[i] ?? '', decimalSeparator);
    if (typeof read === 'string') values[f.name] = read;
    else errors.push(read);
  });
  return { values, errors };
}

/** Reads one line of a fixed-width file (without its line ending). */
export function readFixedLine(layout: FixedLayout, line: string): ReadRecord {
  const slice = (f: { start: number; length: number }) => line.slice(f.start - 1, f.start - 1 + f.length);
  let kind: 'header' | 'detail' | 'trailer' = 'detail';
  if (layout.recordType) {
    const type = slice(layout.recordType).trim();
    if (type === layout.recordType.header) return { kind: 'header' };
    if (type === layout.recordType.trailer) kind = 'trailer';
    else if (type !== layout.recordType.detail)
      return {
        kind: 'invalid',
        errors: [{ field: 'recordType', value: type, reason: 'not a record type the layout declares' }],
      };
  }
  const fields = kind === 'trailer' ? layout.trailerFields : layout.fields;
  const end = Math.max(...fields.map((f) => f.start - 1 + f.length));
  if (line.length < end)
    return {
      kind: 'invalid',
      errors: [
        { field: '(record)', value: line, reason: `${line.length} characters, the layout needs ${end}` },
      ],
    };
  const { values, errors } = readFields(fields, fields.map(slice), layout.decimalSeparator);
  return errors.length ? { kind: 'invalid', errors } : { kind, values };
}

/**
 * Checks a CSV file's header against its layout (the header contract): every mapped column present once.
 * Returns where each field's column is, or what is missing or repeated.
 */
export function csvColumns(
  layout: CsvLayout,
  header: readonly string[],
): { positions: number[] } | { errors: string[] } {
  const names = header.map((h) => h.trim());
  const errors: string[] = [];
  const positions = layout.fields.map((f) => {
    const at = names.indexOf(f.column);
    if (at < 0) errors.push(`column ${f.column} (${f.name}) is missing`);
    else if (names.indexOf(f.column, at + 1) >= 0) errors.push(`column ${f.column} appears twice`);
    return at;
  });
  return errors.length ? { errors } : { positions };
}

/** Reads one CSV record's cells, its columns found by csvColumns. */
export function readCsvRecord(
  layout: CsvLayout,
  positions: readonly number[],
  cells: readonly string[],
): ReadRecord {
  const { values, errors } = readFields(
    layout.fields,
    positions.map((p) => cells[p] ?? ''),
    layout.decimalSeparator,
  );
  return errors.length ? { kind: 'invalid', errors } : { kind: 'detail', values };
}

/**
 * A streaming decoder for a layout's encoding (write each chunk of bytes, then end): a UTF-8 byte-order mark is
 * dropped, a character split between two chunks is read whole, and Windows-1252 maps 0x80–0x9F to its own
 * characters (€ is 0x80; Node 20's TextDecoder reads that range as Latin-1). A byte that is not of the encoding
 * reads as U+FFFD, which a reader refuses in the line it falls in (INVALID_CHARACTER).
 */
export function decoderFor(encoding: FileEncoding): { write(bytes: Buffer): string; end(): string } {
  const decoder = iconv.getDecoder(encoding, { stripBOM: true });
  return { write: (bytes) => decoder.write(bytes), end: () => decoder.end() ?? '' };
}

export const INVALID_CHARACTER = '\uFFFD';
