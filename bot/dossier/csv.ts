/**
 * A small RFC 4180 CSV reader for the staff dossier import. Spreadsheets exported by
 * Excel or Google Sheets quote cells that hold commas, quotes or line breaks; staff need
 * to hear which line of the file is wrong, so every record keeps the line it starts on.
 */

/** One record and the (1-based) file line it starts on. */
export interface CsvRow {
  line: number;
  fields: string[];
}

export interface CsvProblem {
  line: number;
  kind: 'unterminatedQuote' | 'textAfterQuote';
}

/** The file is not text we can read (not UTF-8 or UTF-16 with a BOM). */
export class CsvEncodingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsvEncodingError';
  }
}

/** Bytes → text: UTF-8 with or without BOM, or UTF-16 with a BOM (Excel "Unicode text"). */
export function decodeCsv(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2)).normalize('NFC');
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2)).normalize('NFC');
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes).normalize('NFC');
  } catch {
    throw new CsvEncodingError('not UTF-8');
  }
}

/** Comma, semicolon (Excel in some locales) or tab, whichever the header line uses most. */
export function detectDelimiter(text: string): ',' | ';' | '\t' {
  const first = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/, 1)[0] ?? '';
  const outside = first.replace(/"[^"]*"/g, '');
  const count = (c: string) => outside.split(c).length - 1;
  const candidates = [',', ';', '\t'] as const;
  return candidates.reduce((best, c) => (count(c) > count(best) ? c : best), ',' as ',' | ';' | '\t');
}

/**
 * Parses CSV text. Quoted fields may hold the delimiter, `""` and line breaks (CRLF,
 * LF or CR). Rows whose every field is empty are dropped. A broken quote is reported
 * for the line its record starts on and parsing carries on with the next line.
 */
export function parseCsv(input: string, delimiter = ','): { rows: CsvRow[]; problems: CsvProblem[] } {
  const text = input.replace(/^\uFEFF/, '');
  const rows: CsvRow[] = [];
  const problems: CsvProblem[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;

  const atEol = (j: number) => text[j] === '\n' || text[j] === '\r';
  const skipEol = () => {
    if (text[i] === '\r' && text[i + 1] === '\n') i += 2;
    else i += 1;
    line++;
  };

  while (i < n) {
    const startLine = line;
    const startIndex = i;
    const fields: string[] = [];
    let broken: CsvProblem['kind'] | null = null;
    for (;;) {
      let value = '';
      if (text[i] === '"') {
        i++;
        let closed = false;
        while (i < n) {
          const c = text[i] as string;
          if (c === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          if (c === '\r' || c === '\n') {
            value += '\n';
            skipEol();
            continue;
          }
          value += c;
          i++;
        }
        if (!closed) {
          broken = 'unterminatedQuote';
          break;
        }
        if (i < n && text[i] !== delimiter && !atEol(i)) {
          broken ??= 'textAfterQuote';
          while (i < n && text[i] !== delimiter && !atEol(i)) value += text[i++];
        }
      } else {
        while (i < n && text[i] !== delimiter && !atEol(i)) value += text[i++];
      }
      fields.push(value);
      if (i < n && text[i] === delimiter) {
        i++;
        continue;
      }
      break;
    }
    if (broken === 'unterminatedQuote') {
      // Resume right after the line the record started on, so one stray quote costs one row.
      problems.push({ line: startLine, kind: broken });
      i = startIndex;
      line = startLine;
      while (i < n && !atEol(i)) i++;
      if (i < n) skipEol();
      continue;
    }
    if (i < n) skipEol();
    if (broken) {
      problems.push({ line: startLine, kind: broken });
      continue;
    }
    if (fields.some((f) => f.trim() !== '')) rows.push({ line: startLine, fields });
  }
  return { rows, problems };
}
