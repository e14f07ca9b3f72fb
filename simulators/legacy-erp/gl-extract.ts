/**
 * A legacy GL's month-end ledger extract, as such systems write them: fixed-width records in Windows-1252, a
 * header, one detail record per journal line with its amount in signed zoned decimal (two implied decimals, the
 * sign overpunched on the last digit), and a trailer counting the details and summing their amounts. The layout
 * is what a file feed declares for it (domain/file-layout); the writers build its records, for the legacy-ERP
 * simulator, the tests and the file-inbox benchmark.
 */

export const LEGACY_GL_LAYOUT = {
  format: 'fixed',
  encoding: 'windows-1252',
  recordType: { start: 1, length: 1, header: 'H', detail: 'D', trailer: 'T' },
  fields: [
    { name: 'account', start: 2, length: 5, type: 'text' },
    { name: 'costCenter', start: 7, length: 3, type: 'text' },
    { name: 'postingDate', start: 10, length: 8, type: 'date', format: 'YYYYMMDD' },
    { name: 'amount', start: 18, length: 11, type: 'decimal', impliedDecimals: 2, sign: 'overpunch' },
    { name: 'currency', start: 29, length: 3, type: 'text' },
    { name: 'documentId', start: 32, length: 12, type: 'text' },
    { name: 'lineNo', start: 44, length: 4, type: 'decimal', sign: 'none' },
    { name: 'description', start: 48, length: 20, type: 'text' },
  ],
  trailerFields: [
    { name: 'count', start: 2, length: 9, type: 'decimal', sign: 'none' },
    { name: 'total', start: 11, length: 18, type: 'decimal', impliedDecimals: 2, sign: 'overpunch' },
  ],
} as const;

/** An amount in minor units as signed zoned decimal: `{` `A`–`I` are +0…+9 in the last place, `}` `J`–`R` −0…−9. */
export function zonedDecimal(minor: bigint, width: number): string {
  const digits = (minor < 0n ? -minor : minor).toString().padStart(width, '0');
  return digits.slice(0, -1) + (minor < 0n ? '}JKLMNOPQR' : '{ABCDEFGHI')[Number(digits.slice(-1))]!;
}

export interface GlExtractLine {
  account: string;
  costCenter: string;
  /** YYYYMMDD */
  postingDate: string;
  minor: bigint;
  currency: string;
  documentId: string;
  lineNo: number;
  description: string;
}

export const glHeader = (label: string) => `H${label}`;

export const glDetail = (l: GlExtractLine) =>
  `D${l.account.padEnd(5)}${l.costCenter.padEnd(3)}${l.postingDate}${zonedDecimal(l.minor, 11)}${l.currency}${l.documentId.padEnd(12)}${String(l.lineNo).padStart(4, '0')}${l.description.padEnd(20).slice(0, 20)}`;

export const glTrailer = (count: number, totalMinor: bigint) =>
  `T${String(count).padStart(9, '0')}${zonedDecimal(totalMinor, 18)}`;
