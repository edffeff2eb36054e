import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvError, parseCsv, toCsv } from '../../src/util/csv.js';

describe('CSV (RFC 4180)', () => {
  it('quotes only fields that need it, doubles quotes, ends every record with CRLF', () => {
    expect(toCsv([['Email', 'First name'], ['a@x.example', 'Ann'], ['b@x.example', 'Lee, "Bo"'], ['c@x.example', 'two\nlines'], ['d@x.example', '']])).toBe(
      'Email,First name\r\na@x.example,Ann\r\nb@x.example,"Lee, ""Bo"""\r\nc@x.example,"two\nlines"\r\nd@x.example,\r\n',
    );
  });

  it('parses quoted fields with commas, quotes and line breaks; LF or CRLF; a BOM; no final line end', () => {
    expect(parseCsv('\ufeffa,"b,c","d ""e"""\nf,"g\r\nh",\r\n"",x')).toEqual([
      ['a', 'b,c', 'd "e"'],
      ['f', 'g\r\nh', ''],
      ['', 'x'],
    ]);
    expect(parseCsv('a,b\n\n\nc,d\n')).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(parseCsv('')).toEqual([]);
  });

  it('refuses what RFC 4180 does not allow, naming the line', () => {
    expect(() => parseCsv('a,b\nc"d,e')).toThrow(new CsvError('a double quote inside an unquoted field (enclose the field in quotes and double the quote)', 2));
    expect(() => parseCsv('a\n"b"c')).toThrow(/line 2: text after a closing double quote/);
    expect(() => parseCsv('a\n\n"open\nstill open')).toThrow(/line 3: a quoted field is never closed/);
  });

  it('round-trips any records of any strings', () => {
    const record = fc.array(fc.string({ unit: fc.constantFrom('a', 'Z', ' ', ',', '"', '\r', '\n', 'é', '😀', '\t', "'", '=') }), { minLength: 1, maxLength: 5 });
    fc.assert(
      fc.property(fc.array(record, { maxLength: 8 }), (records) => {
        expect(parseCsv(toCsv(records))).toEqual(records);
      }),
      { numRuns: 300 },
    );
  });
});
