import {
  CsvLayout,
  csvColumns,
  decoderFor,
  FixedLayout,
  INVALID_CHARACTER,
  readCsvRecord,
  readDecimal,
  readFixedLine,
} from '../../../domain/file-layout';

describe('file layouts declared as data', () => {
  test('numbers as legacy files write them: implied decimals, signs, overpunch, decimal comma', () => {
    const plain = { impliedDecimals: 0, sign: 'leading', decimalSeparator: '.' } as const;
    expect(readDecimal('0001234', { ...plain, impliedDecimals: 2 })).toBe('12.34');
    expect(readDecimal('5', { ...plain, impliedDecimals: 2 })).toBe('0.05');
    expect(readDecimal('-1234.50', plain)).toBe('-1234.50');
    expect(readDecimal('1234.50-', { ...plain, sign: 'trailing' })).toBe('-1234.50');
    expect(readDecimal('1.234,56', { ...plain, decimalSeparator: ',' })).toBeUndefined();
    expect(readDecimal('1234,56', { ...plain, decimalSeparator: ',' })).toBe('1234.56');
    // Signed zoned decimal: the last digit carries the sign ({ A–I positive, } J–R negative).
    const zoned = { impliedDecimals: 2, sign: 'overpunch', decimalSeparator: '.' } as const;
    expect(readDecimal('0012345E', zoned)).toBe('1234.55');
    expect(readDecimal('0012345N', zoned)).toBe('-1234.55');
    expect(readDecimal('0000000}', zoned)).toBe('0.00');
    expect(readDecimal('0000010}', zoned)).toBe('-1.00');
    expect(readDecimal('00000105', zoned)).toBe('1.05');
    expect(readDecimal('00001X', zoned)).toBeUndefined();
    expect(readDecimal('12.5', { ...plain, impliedDecimals: 2 })).toBeUndefined();
    expect(readDecimal('1e5', plain)).toBeUndefined();
    expect(readDecimal('', plain)).toBeUndefined();
  });

  const ledger = FixedLayout.parse({
    format: 'fixed',
    encoding: 'windows-1252',
    recordType: { start: 1, length: 1, header: 'H', detail: 'D', trailer: 'T' },
    fields: [
      { name: 'account', start: 2, length: 6, type: 'text' },
      { name: 'costCenter', start: 8, length: 6, type: 'text' },
      { name: 'postingDate', start: 14, length: 8, type: 'date', format: 'YYYYMMDD' },
      { name: 'amount', start: 22, length: 11, type: 'decimal', impliedDecimals: 2, sign: 'overpunch' },
      { name: 'text', start: 33, length: 10, type: 'text' },
    ],
    trailerFields: [
      { name: 'count', start: 2, length: 9, type: 'decimal', sign: 'none' },
      { name: 'total', start: 11, length: 15, type: 'decimal', impliedDecimals: 2, sign: 'overpunch' },
    ],
  });

  test('a fixed-width ledger extract: header, details by position, trailer with count and total', () => {
    expect(readFixedLine(ledger, 'HLEGACY GL EXTRACT 20270430')).toEqual({ kind: 'header' });
    expect(readFixedLine(ledger, 'D600100CC-100202704150000012345NCafé Paris')).toEqual({
      kind: 'detail',
      values: {
        account: '600100',
        costCenter: 'CC-100',
        postingDate: '2027-04-15',
        amount: '-1234.55',
        text: 'Café Paris',
      },
    });
    expect(readFixedLine(ledger, 'T000000002000000000123455')).toEqual({
      kind: 'trailer',
      values: { count: '2', total: '1234.55' },
    });
  });

  test('a bad record names each field it could not read, with its value', () => {
    expect(readFixedLine(ledger, 'D600100CC-100202702300000012345XCafé Paris')).toEqual({
      kind: 'invalid',
      errors: [
        { field: 'postingDate', value: '20270230', reason: 'not a date as YYYYMMDD' },
        {
          field: 'amount',
          value: '0000012345X',
          reason: 'not a number with 2 implied decimals, sign overpunched',
        },
      ],
    });
    expect(readFixedLine(ledger, 'D600100')).toMatchObject({
      kind: 'invalid',
      errors: [{ field: '(record)', reason: '7 characters, the layout needs 42' }],
    });
    expect(readFixedLine(ledger, 'X600100')).toMatchObject({
      kind: 'invalid',
      errors: [{ field: 'recordType', value: 'X' }],
    });
  });

  test('a layout is checked when declared: repeated fields, trailer fields without a trailer type', () => {
    const bad = FixedLayout.safeParse({
      format: 'fixed',
      fields: [
        { name: 'account', start: 1, length: 6, type: 'text' },
        { name: 'account', start: 7, length: 6, type: 'text' },
      ],
      trailerFields: [{ name: 'count', start: 2, length: 9, type: 'decimal' }],
    });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.message)).toEqual([
      'field account is declared twice',
      'trailer fields need recordType.trailer to tell the trailer from a detail',
    ]);
  });

  test('a CSV header contract: mapped columns found by name, missing and repeated ones named', () => {
    const layout = CsvLayout.parse({
      format: 'csv',
      delimiter: ';',
      decimalSeparator: ',',
      fields: [
        { name: 'account', column: 'Konto', type: 'text' },
        { name: 'period', column: 'Periode', type: 'text' },
        { name: 'amount', column: 'Betrag', type: 'decimal', sign: 'leading' },
      ],
    });
    const found = csvColumns(layout, ['Periode', 'Kostenstelle', 'Konto', 'Betrag']);
    expect(found).toEqual({ positions: [2, 0, 3] });
    if (!('positions' in found)) throw new Error('unreachable');
    expect(readCsvRecord(layout, found.positions, ['2027-04', 'CC-100', '600100', '-1234,50'])).toEqual({
      kind: 'detail',
      values: { account: '600100', period: '2027-04', amount: '-1234.50' },
    });
    expect(readCsvRecord(layout, found.positions, ['2027-04', 'CC-100', '600100', '1.234,50'])).toMatchObject(
      {
        kind: 'invalid',
        errors: [{ field: 'amount', value: '1.234,50' }],
      },
    );
    expect(csvColumns(layout, ['Konto', 'Konto', 'Betrag'])).toEqual({
      errors: ['column Konto appears twice', 'column Periode (period) is missing'],
    });
  });

  test('encodings: a UTF-8 byte-order mark is dropped; Windows-1252 bytes read as their characters', () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from('Konto;Betrag', 'utf8')]);
    expect(decoderFor('utf-8').write(bom)).toBe('Konto;Betrag');
    const cp1252 = decoderFor('windows-1252');
    expect(cp1252.write(Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x20, 0x80, 0x93]))).toBe('Café €“');
    // Streamed: a multi-byte character split across two chunks is read whole.
    const d = decoderFor('utf-8');
    const e = Buffer.from('é', 'utf8');
    expect(d.write(e.subarray(0, 1)) + d.write(e.subarray(1)) + d.end()).toBe('é');
    expect(decoderFor('utf-8').write(Buffer.from([0x41, 0xff]))).toBe(`A${INVALID_CHARACTER}`);
  });
});
