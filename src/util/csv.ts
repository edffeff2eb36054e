/**
 * CSV as RFC 4180 has it: fields separated by commas, records by CRLF; a field holding a comma, a double quote,
 * CR or LF is enclosed in double quotes, and a double quote inside it is doubled. Small enough to own rather
 * than depend on a package; tested by round trips of hostile values (test/saas/csv.test.ts).
 */

const NEEDS_QUOTES = /[",\r\n]/;

function field(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Records as CSV text, CRLF after every record (the last included). A record of one empty field is `""`, not a blank line. */
export function toCsv(records: readonly (readonly string[])[]): string {
  return records.map((r) => `${r.length === 1 && r[0] === '' ? '""' : r.map(field).join(',')}\r\n`).join('');
}

/** A malformed CSV, with the 1-based line where the problem is. */
export class CsvError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
  }
}

/**
 * Parses CSV text into records. Takes CRLF or LF line ends, a UTF-8 byte order mark, and a last record with
 * or without a line end; quoted fields may hold commas, quotes (doubled) and line breaks. A quote inside an
 * unquoted field, text after a closing quote, or a quote never closed is an error (RFC 4180 allows none).
 * Blank lines are skipped.
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let record: string[] = [];
  let value = '';
  // Whether the current record has anything (a blank line has not).
  let started = false;
  const endField = () => {
    record.push(value);
    value = '';
  };
  const endRecord = () => {
    if (started) {
      endField();
      records.push(record);
    }
    record = [];
    value = '';
    started = false;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      if (value !== '') throw new CsvError('a double quote inside an unquoted field (enclose the field in quotes and double the quote)', line);
      started = true;
      const opened = line;
      i++;
      for (;;) {
        if (i >= text.length) throw new CsvError('a quoted field is never closed', opened);
        const q = text[i]!;
        if (q === '"') {
          if (text[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (q === '\n') line++;
        value += q;
        i++;
      }
      const next = text[i];
      if (next !== undefined && next !== ',' && next !== '\r' && next !== '\n') throw new CsvError('text after a closing double quote', line);
      continue;
    }
    if (c === ',') {
      started = true;
      endField();
      i++;
      continue;
    }
    if (c === '\r' || c === '\n') {
      endRecord();
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      continue;
    }
    started = true;
    value += c;
    i++;
  }
  endRecord();
  return records;
}
