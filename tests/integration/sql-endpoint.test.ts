import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createClient } from '@clickhouse/client';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startSqlEndpoint } from '../../src/sql/endpoint.js';
import { runCli } from '../support/child.js';
import { expected } from '../support/counts.js';
import {
  ADMIN_KEY,
  INGEST_KEY,
  READ_KEY,
  api,
  drained,
  eventually,
  pipelineEnv,
} from '../support/pipeline.js';
import { startSqlService } from '../support/sql-service.js';
import type { SqlService } from '../support/sql-service.js';

const SQL_KEY = 'test-sql-key-0123456789';
const BUSY_KEY = 'test-sql-busy-key-0123456789';
const SHOP_KEY = 'test-sql-shop-key-0123456789';
const DAY = 86_400_000;

/**
 * One running service (all roles, SQL endpoint on a free port) for the file, on the worker's own
 * embedded ClickHouse folder: the endpoint exists for the embedded engine only, so it is tested
 * on one whatever ClickHouse the rest of the suite uses. Each test uses surveys of its own.
 */
let service: SqlService & { logs: string[] };

beforeAll(async () => {
  const env = {
    ...pipelineEnv(),
    NPS_API_KEYS: [
      `${INGEST_KEY}:ingest`,
      `${READ_KEY}:read`,
      `${ADMIN_KEY}:admin`,
      `${SQL_KEY}:sql`,
      `${BUSY_KEY}:sql`,
      `${SHOP_KEY}:sql:shop.dk`,
    ].join(','),
    NPS_RATE_LIMIT_PER_KEY: '0',
    NPS_RATE_LIMIT_PER_IP: '0',
    NPS_SQL_PER_KEY: '2',
  };
  const logs: string[] = [];
  const started = await startSqlService(env, (m) => logs.push(m));
  service = { ...started.service, logs };
  return started.stop;
}, 120_000);

const clients: ClickHouseClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
});

function client(password = SQL_KEY): ClickHouseClient {
  const c = createClient({
    url: service.sqlUrl,
    username: 'analyst',
    password,
    log: { level: 127 },
  });
  clients.push(c);
  return c;
}

/** Posts `count` responses to a new survey, spread over the last three days; waits until stored. */
async function survey(count: number): Promise<string> {
  const surveyId = `sql-${randomUUID().slice(0, 8)}`;
  const now = Date.now();
  const responses = Array.from({ length: count }, (_, i) => ({
    surveyId,
    responseId: `${surveyId}-${i}`,
    score: (i * 7) % 11,
    channel: (['web', 'sms', 'email'] as const)[i % 3],
    respondedAt: new Date(now - (i % 3) * DAY - 60_000).toISOString(),
    comment: `comment ${i}`,
    segment: { region: i % 2 ? 'dk' : 'se' },
  }));
  for (let i = 0; i < responses.length; i += 500) {
    const posted = await api(service.url, '/v1/responses', {
      key: INGEST_KEY,
      body: responses.slice(i, i + 500),
    });
    expect(posted.status).toBe(202);
  }
  await drained(service.config);
  return surveyId;
}

/** What /v1/nps/history reports per day for the last 90 days. */
async function historyByDay(surveyId: string) {
  const from = new Date(Date.now() - 90 * DAY).toISOString();
  const { body } = await api(
    service.url,
    `/v1/nps/history?surveyId=${surveyId}&from=${from}&interval=day`,
    { key: READ_KEY },
  );
  const series = body.series as {
    start: string;
    promoters: number;
    passives: number;
    detractors: number;
  }[];
  return series.map((b) => ({
    day: b.start.slice(0, 10),
    p: b.promoters,
    s: b.passives,
    d: b.detractors,
  }));
}

/** The SQL examples of the README's data-team section, run against the test's database. */
function readmeStatements(database: string): string[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const begin = readme.indexOf('## For data teams');
  const section = readme.slice(begin, readme.indexOf('\n## ', begin + 1));
  return [...section.matchAll(/```sql\n([\s\S]*?)```/g)]
    .flatMap((m) => (m[1] ?? '').split(/;\s*\n/))
    .map((s) => s.trim().replace(/\bnps\./g, `${database}.`))
    .filter((s) => s.replace(/--.*$/gm, '').trim() !== '');
}

async function sql(
  query: string,
  options: {
    params?: Record<string, string>;
    headers?: Record<string, string>;
    get?: boolean;
  } = {},
) {
  const url = new URL(service.sqlUrl);
  for (const [k, v] of Object.entries(options.params ?? {})) url.searchParams.set(k, v);
  if (options.get) url.searchParams.set('query', query);
  const res = await fetch(url, {
    method: options.get ? 'GET' : 'POST',
    headers: { 'X-ClickHouse-User': 'analyst', 'X-ClickHouse-Key': SQL_KEY, ...options.headers },
    ...(!options.get && { body: query }),
  });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

const CLICKHOUSE_ERROR = /^Code: (\d+)\. DB::Exception: .+ \(([A-Z_]+)\) \(version [\d.]+\)\n$/s;

describe('the SQL endpoint', () => {
  it("@clickhouse/client runs the README's example queries, with daily counts equal to /v1/nps/history", async () => {
    const surveyId = await survey(60);
    const c = client();
    const statements = readmeStatements(service.config.clickhouseDatabase);
    expect(statements.length).toBeGreaterThanOrEqual(3);
    const results: Record<string, unknown>[][] = [];
    for (const query of statements) {
      const result = await c.query({
        query,
        query_params: { survey: surveyId },
        format: 'JSONEachRow',
      });
      results.push(await result.json());
    }
    const daily = (results[0] ?? []).map((r) => ({
      day: String(r.day),
      p: Number(r.p),
      s: Number(r.s),
      d: Number(r.d),
    }));
    expect(daily).toHaveLength(3);
    expect(daily).toEqual(await historyByDay(surveyId));

    // The README's @clickhouse/client example, as written there.
    const rows = await c.query({
      query:
        'SELECT channel, count() AS n FROM responses FINAL WHERE survey_id = {survey:String} GROUP BY channel ORDER BY channel',
      query_params: { survey: surveyId },
      format: 'JSONEachRow',
    });
    expect(await rows.json()).toEqual([
      { channel: 'email', n: '20' },
      { channel: 'sms', n: '20' },
      { channel: 'web', n: '20' },
    ]);
  });

  it('@clickhouse/client reads JSON, CSV and TabSeparated, and streams rows', async () => {
    const surveyId = await survey(30);
    const c = client();
    const query =
      'SELECT response_id, score FROM responses FINAL WHERE survey_id = {s:String} ORDER BY response_id';
    const params = { s: surveyId };
    const json = await (
      await c.query({ query, query_params: params, format: 'JSON' })
    ).json<{ score: number }>();
    expect(json.rows).toBe(30);
    expect(json.meta).toEqual([
      { name: 'response_id', type: 'String' },
      { name: 'score', type: 'UInt8' },
    ]);
    const csv = await (await c.query({ query, query_params: params, format: 'CSV' })).text();
    expect(csv.trim().split('\n')).toHaveLength(30);
    const tsv = await (
      await c.query({ query, query_params: params, format: 'TabSeparated' })
    ).text();
    expect(tsv.split('\n')[0]).toMatch(new RegExp(`^${surveyId}-0\\t0$`));

    // 200,000 rows come in several engine blocks: all of them, in order, once.
    const stream = await c.query({
      query: 'SELECT number FROM numbers(200000)',
      format: 'JSONEachRow',
    });
    let next = 0;
    let outOfOrder = 0;
    for await (const rows of stream.stream<{ number: string }>()) {
      for (const row of rows) if (Number(row.json().number) !== next++) outOfOrder++;
    }
    expect([next, outOfOrder]).toEqual([200_000, 0]);
  });

  it('curl-style requests: ?query=, POST body, param_, default_format, FORMAT, Parquet, gzip both ways', async () => {
    const surveyId = await survey(12);
    const count = `SELECT count() FROM responses FINAL WHERE survey_id = '${surveyId}'`;
    expect((await sql(count, { get: true })).body.toString()).toBe('12\n');
    expect((await sql(count)).body.toString()).toBe('12\n');
    const param = await sql(
      'SELECT count() AS n FROM responses FINAL WHERE survey_id = {s:String}',
      {
        params: { param_s: surveyId, default_format: 'CSVWithNames' },
      },
    );
    expect(param.body.toString()).toBe('"n"\n12\n');
    expect(param.headers.get('x-clickhouse-format')).toBe('CSVWithNames');
    expect(param.headers.get('content-type')).toMatch(/^text\/csv/);
    const clause = await sql(`${count} FORMAT JSONEachRow`);
    expect(clause.body.toString()).toBe('{"count()":"12"}\n');

    const parquet = await sql(
      `SELECT * FROM responses FINAL WHERE survey_id = '${surveyId}' FORMAT Parquet`,
    );
    expect(parquet.status).toBe(200);
    expect(parquet.body.subarray(0, 4).toString()).toBe('PAR1');
    expect(parquet.body.subarray(-4).toString()).toBe('PAR1');

    const gzipped = await fetch(`${service.sqlUrl}/?enable_http_compression=1`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`analyst:${SQL_KEY}`).toString('base64')}`,
        'Accept-Encoding': 'gzip',
        'Content-Encoding': 'gzip',
      },
      body: gzipSync(count),
    });
    expect(gzipped.headers.get('content-encoding')).toBe('gzip');
    // fetch decodes gzip itself; the header says the body came compressed.
    expect(await gzipped.text()).toBe('12\n');

    const viaParams = await fetch(
      `${service.sqlUrl}/?user=analyst&password=${SQL_KEY}&query=${encodeURIComponent(count)}`,
    );
    expect(await viaParams.text()).toBe('12\n');
  });

  it('every refused statement kind and table function gets a ClickHouse error and changes nothing', async () => {
    const surveyId = await survey(9);
    const db = service.config.clickhouseDatabase;
    const outfile = join(tmpdir(), `nps-sql-${randomUUID()}.csv`);
    const refused = [
      `INSERT INTO responses (response_id, survey_id) VALUES ('x', '${surveyId}')`,
      `ALTER TABLE responses DELETE WHERE survey_id = '${surveyId}'`,
      `ALTER TABLE responses ADD COLUMN x UInt8`,
      'DROP TABLE responses',
      `DROP DATABASE ${db}`,
      'TRUNCATE TABLE responses',
      'CREATE TABLE stolen (x String) ENGINE = Memory',
      "CREATE DICTIONARY d (x UInt64) PRIMARY KEY x SOURCE(FILE(path '/etc/passwd' format 'TSV')) LAYOUT(FLAT()) LIFETIME(0)",
      'RENAME TABLE responses TO gone',
      'OPTIMIZE TABLE responses FINAL',
      'SYSTEM FLUSH LOGS',
      'SYSTEM SHUTDOWN',
      'KILL QUERY WHERE 1',
      'SET readonly = 0',
      'USE system',
      'GRANT ALL ON *.* TO default',
      "SELECT * FROM file('/etc/passwd', 'LineAsString')",
      "SELECT * FROM url('http://127.0.0.1:1/', 'CSV', 'x String')",
      "SELECT * FROM s3('http://127.0.0.1:1/b/k.csv', 'CSV', 'x String')",
      "SELECT * FROM remote('127.0.0.1:9000', system.one)",
      "SELECT * FROM mysql('127.0.0.1:3306', 'db', 't', 'u', 'p')",
      "SELECT * FROM postgresql('127.0.0.1:5432', 'db', 't', 'u', 'p')",
      "SELECT * FROM hdfs('hdfs://127.0.0.1:9000/x', 'CSV', 'x String')",
      "SELECT * FROM executable('cat /etc/passwd', 'TSV', 'x String')",
      "SELECT * FROM input('x String')",
      "SELECT * FROM jdbc('datasource', 'schema', 'table')",
      "SELECT * FROM merge('system', '.*')",
      "SELECT * FROM dictionary('d')",
      "SELECT file('/etc/hostname')",
      "SELECT dictGet('d', 'x', toUInt64(1))",
      `SELECT * FROM responses INTO OUTFILE '${outfile}'`,
      'SELECT * FROM system.users',
      'SELECT * FROM system.processes',
      'SELECT 1 IN system.users',
      'SELECT * FROM default.nothing',
      'SELECT 1 SETTINGS readonly = 0',
      'SELECT 1 SETTINGS max_threads = 64',
      `SELECT 1; DROP TABLE responses`,
    ];
    const tablesBefore = (await sql('SHOW TABLES')).body.toString();
    expect(tablesBefore).toMatch(/^responses$/m);
    for (const statement of refused) {
      const { status, headers, body } = await sql(statement);
      const text = body.toString();
      expect(status, statement).toBeGreaterThanOrEqual(400);
      expect(text, statement).toMatch(CLICKHOUSE_ERROR);
      expect(headers.get('x-clickhouse-exception-code'), statement).toBe(
        CLICKHOUSE_ERROR.exec(text)?.[1],
      );
    }
    // Settings a client may not change are refused the same way.
    const setting = await sql('SELECT 1', { params: { allow_ddl: '1' } });
    expect([setting.status, setting.headers.get('x-clickhouse-exception-code')]).toEqual([
      500,
      '164',
    ]);
    const raised = await sql('SELECT 1', { params: { max_execution_time: '3600' } });
    expect(raised.body.toString()).toMatch(/Cannot raise 'max_execution_time'/);

    expect(
      (
        await sql(`SELECT count() FROM responses FINAL WHERE survey_id = '${surveyId}'`)
      ).body.toString(),
    ).toBe('9\n');
    expect((await sql('SHOW TABLES')).body.toString()).toBe(tablesBefore);
    expect(existsSync(outfile)).toBe(false);
    // Browsing sees the product's database only.
    expect((await sql('SHOW DATABASES')).body.toString()).toBe(`${db}\n`);
    expect((await sql('SELECT DISTINCT database FROM system.columns')).body.toString()).toBe(
      `${db}\n`,
    );
  });

  it('keys without the sql scope, restricted to surveys, unknown or missing are refused', async () => {
    const attempts: [Record<string, string>, number, string][] = [
      [{ 'X-ClickHouse-Key': READ_KEY }, 403, '497'],
      [{ 'X-ClickHouse-Key': INGEST_KEY }, 403, '497'],
      [{ 'X-ClickHouse-Key': SHOP_KEY }, 403, '497'],
      [{ 'X-ClickHouse-Key': 'not-a-key-0123456789' }, 403, '516'],
      [{ 'X-ClickHouse-Key': '' }, 401, '194'],
    ];
    for (const [headers, status, code] of attempts) {
      const res = await sql('SELECT 1', { headers });
      expect([res.status, res.headers.get('x-clickhouse-exception-code')]).toEqual([status, code]);
      expect(res.body.toString()).toMatch(CLICKHOUSE_ERROR);
    }
    await expect(client(READ_KEY).query({ query: 'SELECT 1' })).rejects.toMatchObject({
      code: '497',
      type: 'ACCESS_DENIED',
    });
    // An admin key may query.
    expect((await sql('SELECT 1', { headers: { 'X-ClickHouse-Key': ADMIN_KEY } })).status).toBe(
      200,
    );
  });

  it('counts are exact while responses stream in and their retries repeat', async () => {
    const surveyId = `sql-live-${randomUUID().slice(0, 8)}`;
    const c = client();
    const total = 600;
    let sent = 0;
    const ingest = (async () => {
      for (let i = 0; i < total; i += 50) {
        const batch = Array.from({ length: 50 }, (_, j) => ({
          surveyId,
          responseId: `${surveyId}-${i + j}`,
          score: (i + j) % 11,
        }));
        expect(
          (await api(service.url, '/v1/responses', { key: INGEST_KEY, body: batch })).status,
        ).toBe(202);
        // A client retry: the same responses again.
        expect(
          (await api(service.url, '/v1/responses', { key: INGEST_KEY, body: batch })).status,
        ).toBe(202);
        sent += 50;
      }
    })();
    const query = `SELECT count() AS n, uniqExact(response_id) AS unique,
                          countIf(category = 'promoter') AS p, countIf(category = 'detractor') AS d
                   FROM responses FINAL WHERE survey_id = {s:String}`;
    let last = 0;
    let reads = 0;
    while (sent < total || reads < 3) {
      const [row] = await (
        await c.query({ query, query_params: { s: surveyId }, format: 'JSONEachRow' })
      ).json<{ n: string; unique: string }>();
      expect(row?.n).toBe(row?.unique);
      expect(Number(row?.n)).toBeGreaterThanOrEqual(last);
      last = Number(row?.n);
      reads++;
    }
    await ingest;
    await drained(service.config);
    const [final] = await (
      await c.query({ query, query_params: { s: surveyId }, format: 'JSONEachRow' })
    ).json<Record<string, string>>();
    const counts = expected(total);
    expect(final).toEqual({
      n: '600',
      unique: '600',
      p: String(counts.promoters),
      d: String(counts.detractors),
    });
    const history = await historyByDay(surveyId);
    expect(history.reduce((n, b) => n + b.p + b.s + b.d, 0)).toBe(600);
  });

  it('a key gets at most its share of running queries; a timed-out or abandoned query frees it', async () => {
    const slow = (signal?: AbortSignal) =>
      fetch(`${service.sqlUrl}/?max_execution_time=2`, {
        method: 'POST',
        headers: { 'X-ClickHouse-Key': BUSY_KEY },
        body: 'SELECT count() FROM numbers(100000000000) WHERE sipHash64(number) = 1',
        ...(signal && { signal }),
      });
    const first = slow();
    const abandoned = new AbortController();
    const second = slow(abandoned.signal).catch(() => undefined);
    await eventually(
      async () => (await sql('SELECT 1', { headers: { 'X-ClickHouse-Key': BUSY_KEY } })).status,
      (status) => status === 429,
    );
    const third = await sql('SELECT 1', { headers: { 'X-ClickHouse-Key': BUSY_KEY } });
    expect(third.headers.get('x-clickhouse-exception-code')).toBe('202');
    expect(third.body.toString()).toMatch(/TOO_MANY_SIMULTANEOUS_QUERIES/);
    abandoned.abort();
    await second;
    const timedOut = await first;
    expect([timedOut.status, timedOut.headers.get('x-clickhouse-exception-code')]).toEqual([
      408,
      '159',
    ]);
    await eventually(
      async () => (await sql('SELECT 1', { headers: { 'X-ClickHouse-Key': BUSY_KEY } })).status,
      (status) => status === 200,
    );
  });

  it('limits result rows and memory per query, as a client may lower them further', async () => {
    const rows = await sql('SELECT number FROM numbers(1000)', {
      params: { max_result_rows: '10' },
    });
    expect(rows.body.toString()).toMatch(/^Code: 396\. .*TOO_MANY_ROWS_OR_BYTES/);
    const memory = await sql('SELECT groupArray(number) FROM numbers(10000000)', {
      params: { max_memory_usage: '10000000' },
    });
    expect([memory.status, memory.headers.get('x-clickhouse-exception-code')]).toEqual([
      500,
      '241',
    ]);
  });

  it('logs every query with key, duration and rows read, never its results or parameter values', async () => {
    const secret = `secret-${randomUUID()}`;
    const before = service.logs.length;
    await sql(`SELECT concat('x', {v:String}) AS v FROM numbers(5)`, {
      params: { param_v: secret },
    });
    const lines = service.logs.slice(before).filter((l) => l.startsWith('sql '));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^sql ok user=analyst key=[0-9a-f]{8} .* ms=\d+ rows_read=5 result_rows=5 /,
    );
    expect(service.logs.join('\n')).not.toContain(secret);
  });

  it('nps sql and nps export print results through the endpoint', async () => {
    const surveyId = await survey(15);
    const env = { NPS_API_KEYS: `${SQL_KEY}:sql` };
    const url = service.sqlUrl;
    const counted = await runCli(
      [
        'sql',
        'SELECT count() AS n FROM responses FINAL WHERE survey_id = {s:String}',
        '--param',
        `s=${surveyId}`,
        '--url',
        url,
      ],
      env,
    );
    expect(counted).toMatchObject({ code: 0, output: '"n"\n15\n' });
    const json = await runCli(['sql', `SELECT 1 AS one`, '--format', 'json', '--url', url], env);
    expect(json.output).toBe('{"one":1}\n');
    const exported = await runCli(
      ['export', '--table', 'responses', '--format', 'csv', '--url', url],
      env,
    );
    expect(exported.code).toBe(0);
    const ours = exported.output.split('\n').filter((l) => l.includes(`"${surveyId}"`));
    expect(ours).toHaveLength(15);
    const times = ours.map((l) => /"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})"/.exec(l)?.[1] ?? '');
    expect(times).toEqual([...times].sort());
    const refused = await runCli(['sql', 'DROP TABLE responses', '--url', url], env);
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/Code: 497\. DB::Exception: .*ACCESS_DENIED/);
  });
});

describe('the SQL endpoint shutting down', () => {
  it('cancels running statements: their clients get an error, never a result that looks complete', async () => {
    // A second endpoint on the same engine and database as the file's service.
    const endpoint = await startSqlEndpoint({
      config: service.config,
      apiKeys: service.config.apiKeys,
      path: join(inject('clickhouseRoot'), `worker-${process.pid}`),
      port: 0,
      log: () => undefined,
    });
    const query = (body: string) =>
      fetch(`${endpoint.url}/`, { method: 'POST', headers: { 'X-ClickHouse-Key': SQL_KEY }, body });
    // One statement computing its first block, one part-way through streaming its result.
    const computing = query(
      'SELECT count() FROM numbers(100000000000) WHERE sipHash64(number) = 1',
    ).then(
      async (r) => `${r.status} ${await r.text()}`,
      (e: unknown) => String(e),
    );
    const streaming = await query('SELECT number FROM numbers(100000000000)');
    expect(streaming.status).toBe(200);
    const reader = streaming.body?.getReader();
    await reader?.read();
    await endpoint.close();
    expect(await computing).toMatch(
      /QUERY_WAS_CANCELLED|terminated|fetch failed|other side closed/,
    );
    // The rows already on their way arrive; then the transfer fails instead of ending.
    const cut = await (async () => {
      for (;;) if ((await reader?.read())?.done !== false) return false;
    })().catch(() => true);
    expect(cut).toBe(true);
  });
});
