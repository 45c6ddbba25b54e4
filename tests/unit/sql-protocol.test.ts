import { describe, expect, it } from 'vitest';
import { SqlError, fromEngine } from '../../src/sql/errors.js';
import { contentType, delivery, headerLength } from '../../src/sql/formats.js';
import { Admission } from '../../src/sql/limits.js';
import { clientRequest, escapedParam, sqlString } from '../../src/sql/settings.js';
import type { Limit } from '../../src/sql/settings.js';

const limits: Record<Limit, number> = {
  max_execution_time: 30,
  max_result_rows: 1000,
  max_result_bytes: 0,
  max_memory_usage: 1024,
  max_threads: 1,
  max_rows_to_read: 0,
  max_bytes_to_read: 0,
};

describe('ClickHouse errors', () => {
  it('keeps the code, name and text the engine gave, unwrapping a doubled message', () => {
    const e = fromEngine(
      new Error(
        "Code: 164. DB::Exception: Code: 164. DB::Exception: Cannot modify 'max_threads' setting in readonly mode. (READONLY) (version 26.7.2.1). (READONLY)",
      ),
    );
    expect([e.clickhouseCode, e.clickhouseName, e.message]).toEqual([
      164,
      'READONLY',
      "Cannot modify 'max_threads' setting in readonly mode",
    ]);
    expect(e.wire('26.7')).toBe(
      "Code: 164. DB::Exception: Cannot modify 'max_threads' setting in readonly mode. (READONLY) (version 26.7)\n",
    );
  });

  it('answers with the HTTP status ClickHouse gives each code', () => {
    const status = (code: number) => new SqlError(code, 'X', 'x').httpStatus;
    expect([status(62), status(60), status(497), status(516), status(194)]).toEqual([
      400, 404, 403, 403, 401,
    ]);
    expect([status(159), status(202), status(164), status(241)]).toEqual([408, 429, 500, 500]);
  });

  it('does not pass on the text of an error that is not the engine’s', () => {
    const e = fromEngine(new Error('socket hang up near respondent@example.com'));
    expect([e.clickhouseCode, e.message]).toEqual([1002, 'Query failed in the engine']);
  });
});

describe('client settings and parameters', () => {
  const request = (query: string) => clientRequest(new URLSearchParams(query), limits);

  it('applies output settings and lower limits, ignores protocol parameters', () => {
    const { settings, params } = request(
      'query_id=q&compress=1&database=nps&output_format_json_quote_64bit_integers=0&max_result_rows=10&result_overflow_mode=break&param_survey=shop&readonly=1',
    );
    expect(Object.fromEntries(settings)).toEqual({
      output_format_json_quote_64bit_integers: '0',
      max_result_rows: '10',
      result_overflow_mode: 'break',
    });
    expect(Object.fromEntries(params)).toEqual({ survey: 'shop' });
  });

  it('refuses raising a limit, lifting it with 0, and settings that change what is read', () => {
    expect(() => request('max_execution_time=31')).toThrow(/Cannot raise 'max_execution_time'/);
    expect(() => request('max_result_rows=0')).toThrow(/Cannot raise/);
    expect(() => request('allow_ddl=1')).toThrow(/Cannot modify 'allow_ddl'/);
    expect(() => request('additional_table_filters=x')).toThrow(SqlError);
    expect(() => request('output_format_schema=/tmp/x')).toThrow(SqlError);
    expect(() => request('max_result_bytes=99999999999')).not.toThrow();
  });

  it('quotes any text into a literal and a parameter value the engine reads back unchanged', () => {
    expect(sqlString(`a'b\\c\nd\u0000`)).toBe(`'a\\'b\\\\c\\nd\\0'`);
    expect(escapedParam('a\tb\\c\nd')).toBe('a\\tb\\\\c\\nd');
  });
});

describe('output formats', () => {
  it('streams row formats, drops repeated headers, produces documents whole', () => {
    expect(['CSV', 'JSONEachRow', 'RowBinary', 'tsv'].map(delivery)).toEqual([
      'rows',
      'rows',
      'rows',
      'rows',
    ]);
    expect(delivery('RowBinaryWithNamesAndTypes')).toBe('header');
    expect(['JSON', 'Parquet', 'Pretty', 'Values'].map(delivery)).toEqual([
      'document',
      'document',
      'document',
      'document',
    ]);
    expect(contentType('CSVWithNames')).toBe('text/csv; charset=UTF-8; header=present');
  });

  it('measures a block header, a quoted line break in a CSV name included', () => {
    const csv = Buffer.from('"a\nb","c"\n1,2\n');
    expect(headerLength('CSVWithNames', csv)).toBe('"a\nb","c"\n'.length);
    const tsv = Buffer.from('a\tb\nUInt8\tString\n1\tx\n');
    expect(headerLength('TabSeparatedWithNamesAndTypes', tsv)).toBe('a\tb\nUInt8\tString\n'.length);
    // 2 columns "x", "y" of types UInt8, String, then a row.
    const binary = Buffer.from([
      2,
      1,
      0x78,
      1,
      0x79,
      5,
      ...Buffer.from('UInt8'),
      6,
      ...Buffer.from('String'),
      1,
      1,
      0x61,
    ]);
    expect(headerLength('RowBinaryWithNamesAndTypes', binary)).toBe(binary.length - 3);
  });
});

describe('admission', () => {
  it('refuses a key past its share at once and queues past the process-wide bound', async () => {
    const admission = new Admission(2, 1);
    const signal = new AbortController().signal;
    const first = await admission.enter('k', signal);
    const second = admission.enter('k', signal);
    await expect(admission.enter('k', signal)).rejects.toMatchObject({ clickhouseCode: 202 });
    let admitted = false;
    void second.then(() => (admitted = true));
    await Promise.resolve();
    expect(admitted).toBe(false);
    first();
    (await second)();
    expect(admitted).toBe(true);
    (await admission.enter('k', signal))();
  });

  it('a waiting client that goes away leaves the queue', async () => {
    const admission = new Admission(5, 1);
    const leave = await admission.enter('a', new AbortController().signal);
    const gone = new AbortController();
    const waiting = admission.enter('b', gone.signal);
    gone.abort();
    await expect(waiting).rejects.toMatchObject({ clickhouseCode: 394 });
    leave();
    (await admission.enter('b', new AbortController().signal))();
  });
});
