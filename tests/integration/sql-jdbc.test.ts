import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileAsync } from '../../deploy/local/toolchain.js';
import { INGEST_KEY, READ_KEY, api, drained, pipelineEnv } from '../support/pipeline.js';
import { startSqlService } from '../support/sql-service.js';
import type { SqlService } from '../support/sql-service.js';

const SQL_KEY = 'test-jdbc-sql-key-0123456789';
const DAY = 86_400_000;
const PROJECT = fileURLToPath(new URL('../java/sql-client/', import.meta.url));

/**
 * The ClickHouse JDBC driver (what DBeaver, Metabase, Superset and Tableau load) against the
 * running service, through tests/java/sql-client: a small program built with Maven like the
 * stack's other Java parts, its output under its own target/.
 */
let service: SqlService;
let classpath: string;

beforeAll(async () => {
  await execFileAsync(
    'mvn',
    [
      '-q',
      '-B',
      '-Dstyle.color=never',
      '-f',
      join(PROJECT, 'pom.xml'),
      'compile',
      'dependency:build-classpath',
      '-Dmdep.outputFile=target/classpath.txt',
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  classpath = `${join(PROJECT, 'target', 'classes')}:${readFileSync(join(PROJECT, 'target', 'classpath.txt'), 'utf8').trim()}`;

  const env = {
    ...pipelineEnv(),
    NPS_API_KEYS: `${INGEST_KEY}:ingest,${READ_KEY}:read,${SQL_KEY}:sql`,
    NPS_RATE_LIMIT_PER_KEY: '0',
    NPS_RATE_LIMIT_PER_IP: '0',
  };
  const started = await startSqlService(env);
  service = started.service;
  return started.stop;
}, 300_000);

/** Runs the Java client; resolves with its exit code, standard output and error. */
function jdbc(key: string, surveyId: string, statements: readonly string[]) {
  const url = `jdbc:clickhouse://${new URL(service.sqlUrl).host}/${service.config.clickhouseDatabase}`;
  const child = spawn('java', ['-cp', classpath, 'nps.SqlClient', url, 'analyst', key, surveyId], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end(statements.join('\n--;\n'));
  return new Promise<{ code: number | null; lines: string[][]; stderr: string }>((resolve) => {
    child.once('close', (code) => {
      resolve({
        code,
        lines: stdout
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => l.split('\t')),
        stderr,
      });
    });
  });
}

/** The README's data-team SQL examples, for JDBC: `?` for the survey, the test's database. */
function readmeStatements(): string[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const begin = readme.indexOf('## For data teams');
  const section = readme.slice(begin, readme.indexOf('\n## ', begin + 1));
  return [...section.matchAll(/```sql\n([\s\S]*?)```/g)]
    .flatMap((m) => (m[1] ?? '').split(/;\s*\n/))
    .map((s) =>
      s
        .trim()
        .replace(/\bnps\./g, `${service.config.clickhouseDatabase}.`)
        .replaceAll('{survey:String}', '?'),
    )
    .filter((s) => s.replace(/--.*$/gm, '').trim() !== '');
}

describe('the SQL endpoint through the JDBC driver', () => {
  it("browses tables and columns, runs the README's examples as prepared statements with typed results, daily counts equal to /v1/nps/history", async () => {
    const surveyId = `jdbc-${randomUUID().slice(0, 8)}`;
    const now = Date.now();
    const responses = Array.from({ length: 45 }, (_, i) => ({
      surveyId,
      responseId: `${surveyId}-${i}`,
      score: (i * 5) % 11,
      channel: (['web', 'sms', 'email'] as const)[i % 3],
      respondedAt: new Date(now - (i % 3) * DAY - 60_000).toISOString(),
      comment: `c${i}`,
    }));
    expect(
      (await api(service.url, '/v1/responses', { key: INGEST_KEY, body: responses })).status,
    ).toBe(202);
    await drained(service.config);

    const statements = readmeStatements();
    const { code, lines, stderr } = await jdbc(SQL_KEY, surveyId, [
      ...statements,
      'SELECT count() AS n, avg(score) AS mean, max(responded_at) AS last, any(segment) AS seg FROM responses FINAL WHERE survey_id = ?',
      'DROP TABLE responses',
    ]);
    expect(code, stderr).toBe(0);
    expect(lines[0]?.[0]).toBe('version');
    const tables = lines.filter((l) => l[0] === 'table').map((l) => `${l[1]}.${l[2]}`);
    expect(tables).toContain(`${service.config.clickhouseDatabase}.responses`);
    expect(tables.every((t) => t.startsWith(`${service.config.clickhouseDatabase}.`))).toBe(true);
    const columns = Object.fromEntries(
      lines.filter((l) => l[0] === 'column').map((l): [string, string] => [l[2] ?? '', l[3] ?? '']),
    );
    expect(columns).toMatchObject({
      score: 'UInt8',
      survey_id: 'LowCardinality(String)',
      responded_at: "DateTime64(3, 'UTC')",
    });

    // Results, split per statement.
    const results: string[][][] = [];
    for (const line of lines) {
      if (line[0] === 'result') results.push([]);
      else results.at(-1)?.push(line);
    }
    expect(results).toHaveLength(statements.length + 2);
    for (const [i, result] of results.slice(0, statements.length).entries()) {
      expect(
        result.filter((l) => l[0] === 'error'),
        statements[i],
      ).toEqual([]);
    }
    const daily = (results[0] ?? [])
      .filter((l) => l[0] === 'row')
      .map((l) => ({ day: l[1], p: Number(l[2]), s: Number(l[3]), d: Number(l[4]) }));
    const from = new Date(now - 90 * DAY).toISOString();
    const { body } = await api(
      service.url,
      `/v1/nps/history?surveyId=${surveyId}&from=${from}&interval=day`,
      { key: READ_KEY },
    );
    const history = (
      body.series as { start: string; promoters: number; passives: number; detractors: number }[]
    ).map((b) => ({
      day: b.start.slice(0, 10),
      p: b.promoters,
      s: b.passives,
      d: b.detractors,
    }));
    expect(daily).toHaveLength(3);
    expect(daily).toEqual(history);

    const typed = results[statements.length] ?? [];
    expect(typed.filter((l) => l[0] === 'meta').map((l) => l[2])).toEqual([
      'UInt64',
      'Float64',
      "DateTime64(3, 'UTC')",
      'Map(String, String)',
    ]);
    expect(typed.find((l) => l[0] === 'row')?.[1]).toBe('45');
    const drop = results[statements.length + 1] ?? [];
    expect(drop[0]?.[0]).toBe('error');
    expect(drop[0]?.[1]).toMatch(/Code: 497\. DB::Exception: .*\(ACCESS_DENIED\)/);
  });

  it('a key without the sql scope cannot connect', async () => {
    const { code, stderr } = await jdbc(READ_KEY, 'none', ['SELECT 1']);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/Code: 497\. DB::Exception: .*sql scope/);
  });
});
