/**
 * How the endpoint sends each output format. The engine hands a streamed result over one block at
 * a time, each block written as a complete output of the format: that is a valid continuation for
 * row formats, a repeated header for the *WithNames formats (dropped after the first block), and a
 * whole document again for JSON, Parquet and the like, which are therefore produced whole instead.
 */

export type Delivery = 'rows' | 'header' | 'document';

const ROWS = new Set(
  [
    'TabSeparated',
    'TSV',
    'TabSeparatedRaw',
    'TSVRaw',
    'Raw',
    'CSV',
    'JSONEachRow',
    'JSONLines',
    'NDJSON',
    'JSONStringsEachRow',
    'JSONCompactEachRow',
    'JSONCompactStringsEachRow',
    'RowBinary',
    'Native',
    'TSKV',
    'LineAsString',
    'RawBLOB',
    'Null',
  ].map((f) => f.toLowerCase()),
);

/** Header formats and how many header records each block starts with. */
const HEADERS = new Map<string, { kind: 'binary' | 'csv' | 'lines'; records: 1 | 2 }>([
  ['rowbinarywithnames', { kind: 'binary', records: 1 }],
  ['rowbinarywithnamesandtypes', { kind: 'binary', records: 2 }],
  ['csvwithnames', { kind: 'csv', records: 1 }],
  ['csvwithnamesandtypes', { kind: 'csv', records: 2 }],
  ...[
    'TabSeparatedWithNames',
    'TSVWithNames',
    'JSONCompactEachRowWithNames',
    'JSONCompactStringsEachRowWithNames',
  ].map((f): [string, { kind: 'lines'; records: 1 }] => [
    f.toLowerCase(),
    { kind: 'lines', records: 1 },
  ]),
  ...[
    'TabSeparatedWithNamesAndTypes',
    'TSVWithNamesAndTypes',
    'JSONCompactEachRowWithNamesAndTypes',
    'JSONCompactStringsEachRowWithNamesAndTypes',
  ].map((f): [string, { kind: 'lines'; records: 2 }] => [
    f.toLowerCase(),
    { kind: 'lines', records: 2 },
  ]),
]);

export function delivery(format: string): Delivery {
  const lower = format.toLowerCase();
  if (ROWS.has(lower)) return 'rows';
  if (HEADERS.has(lower)) return 'header';
  return 'document';
}

/** The Content-Type ClickHouse's server sends with a format. */
export function contentType(format: string): string {
  const lower = format.toLowerCase();
  if (lower.startsWith('csv')) {
    return `text/csv; charset=UTF-8; header=${lower.includes('withnames') ? 'present' : 'absent'}`;
  }
  if (lower.startsWith('tabseparated') || lower.startsWith('tsv')) {
    return 'text/tab-separated-values; charset=UTF-8';
  }
  if (lower.includes('eachrow') || lower === 'jsonlines' || lower === 'ndjson') {
    return 'application/x-ndjson; charset=UTF-8';
  }
  if (lower.startsWith('json')) return 'application/json; charset=UTF-8';
  if (lower === 'xml') return 'application/xml; charset=UTF-8';
  if (/^(pretty|vertical|markdown|values|tskv|raw|lineasstring)/.test(lower)) {
    return 'text/plain; charset=UTF-8';
  }
  return 'application/octet-stream';
}

function readVarUInt(bytes: Uint8Array, start: number): [number, number] {
  let value = 0;
  let shift = 0;
  let pos = start;
  for (;;) {
    const b = bytes[pos++];
    if (b === undefined) throw new Error('header cut short');
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [value, pos];
    shift += 7;
  }
}

/** Bytes of `records` newline-ended records at the start of `text`, with CSV quoting if asked. */
function recordsLength(bytes: Uint8Array, records: number, quoted: boolean): number {
  let seen = 0;
  let inQuotes = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (quoted && b === 0x22) inQuotes = !inQuotes;
    else if (b === 0x0a && !inQuotes && ++seen === records) return i + 1;
  }
  throw new Error('header cut short');
}

/** Length of the header a block of a 'header' format starts with. */
export function headerLength(format: string, block: Uint8Array): number {
  const spec = HEADERS.get(format.toLowerCase());
  if (!spec) return 0;
  if (spec.kind !== 'binary') return recordsLength(block, spec.records, spec.kind === 'csv');
  const [columns, first] = readVarUInt(block, 0);
  let pos = first;
  for (let i = 0; i < columns * spec.records; i++) {
    const [length, next] = readVarUInt(block, pos);
    pos = next + length;
  }
  if (pos > block.length) throw new Error('header cut short');
  return pos;
}
