/**
 * Rollup reads at scale: one survey with N responses (default 50,000,000) spread evenly over the
 * last 24 months, written straight into nps.responses of an embedded chdb folder of its own
 * (INSERT ... SELECT FROM numbers(), the materialized views fill the rollups as the processor's
 * inserts would), then the 90-day daily and 24-month monthly series through History.series,
 * median and p95 of 20 reads each, and the tables' sizes on disk (system.parts).
 *
 *   npm run bench:history -- --responses 50000000
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createClickHouse } from '../src/storage/clickhouse.js';
import { History } from '../src/storage/history.js';
import { migrate } from '../src/storage/migrations.js';

const { values } = parseArgs({
  options: {
    responses: { type: 'string', default: '50000000' },
    reads: { type: 'string', default: '20' },
  },
});
const total = Number(values.responses);
const reads = Number(values.reads);
const DATABASE = 'nps';
const SURVEY = 'bench-history';
const DAY = 86_400_000;
const CHUNK = 5_000_000;

const folder = mkdtempSync(join(tmpdir(), 'nps-bench-history-'));
const client = createClickHouse({ kind: 'embedded', path: folder });
try {
  await migrate(client, DATABASE);
  const now = Date.now();
  const from = now - 730 * DAY;
  const began = performance.now();
  // Response i: score i % 11, channel i % 3, partition i % 6 at offset i / 6, evenly in time.
  for (let start = 0; start < total; start += CHUNK) {
    await client.command({
      query: `
        INSERT INTO ${DATABASE}.responses
          (response_id, survey_id, channel, score, category, responded_at, received_at,
           kafka_topic, kafka_partition, kafka_offset)
        SELECT toString(number), {survey:String}, ['web', 'sms', 'email'][number % 3 + 1],
               number % 11,
               multiIf(number % 11 >= 9, 'promoter', number % 11 >= 7, 'passive', 'detractor'),
               fromUnixTimestamp64Milli(toInt64({from:Int64} + number * {step:Float64}), 'UTC'),
               fromUnixTimestamp64Milli(toInt64({from:Int64} + number * {step:Float64}), 'UTC'),
               'nps.responses', number % 6, intDiv(number, 6)
        FROM numbers({start:UInt64}, {count:UInt64})`,
      query_params: {
        survey: SURVEY,
        from,
        step: (730 * DAY) / total,
        start,
        count: Math.min(CHUNK, total - start),
      },
    });
  }
  const fillSeconds = (performance.now() - began) / 1000;
  const history = new History(client, DATABASE);

  const time = async (query: Parameters<History['series']>[0] | 'SELECT 1') => {
    const ms: number[] = [];
    let counted = 0;
    for (let i = 0; i < reads; i++) {
      const t = performance.now();
      if (query === 'SELECT 1') {
        await (await client.query({ query, format: 'JSONEachRow' })).json();
        ms.push(performance.now() - t);
        continue;
      }
      const rows = await history.series(query);
      ms.push(performance.now() - t);
      counted = rows.reduce((n, r) => n + r.promoters + r.passives + r.detractors, 0);
    }
    ms.sort((a, b) => a - b);
    const at = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))] ?? Number.NaN;
    return { medianMs: at(0.5), p95Ms: at(0.95), responsesCounted: counted };
  };
  const daily90 = await time({
    surveyId: SURVEY,
    from: now - 90 * DAY,
    to: now,
    interval: 'day',
    byChannel: false,
  });
  const monthly24 = await time({
    surveyId: SURVEY,
    from: now - 730 * DAY,
    to: now,
    interval: 'month',
    byChannel: false,
  });
  // The engine's own cost of a query round trip, for scale.
  const select1 = await time('SELECT 1');
  const parts = await client.query({
    query: `SELECT table, sum(rows) AS rows, sum(bytes_on_disk) AS bytes
            FROM system.parts WHERE database = {db:String} AND active
            GROUP BY table ORDER BY table`,
    query_params: { db: DATABASE },
    format: 'JSONEachRow',
  });
  const sizes = await parts.json<{ table: string; rows: string; bytes: string }>();
  console.log(
    JSON.stringify(
      {
        responses: total,
        fillSeconds,
        reads,
        daily90,
        monthly24,
        select1,
        tables: sizes.filter((s) => Number(s.rows) > 0),
      },
      null,
      2,
    ),
  );
  console.log(
    `\n| read (${String(total)} responses, median of ${String(reads)}) | median ms | p95 ms |\n|---|---|---|\n` +
      `| 90-day daily series | ${daily90.medianMs.toFixed(1)} | ${daily90.p95Ms.toFixed(1)} |\n` +
      `| 24-month monthly series | ${monthly24.medianMs.toFixed(1)} | ${monthly24.p95Ms.toFixed(1)} |\n` +
      `| SELECT 1 (the engine's floor) | ${select1.medianMs.toFixed(1)} | ${select1.p95Ms.toFixed(1)} |`,
  );
} finally {
  await client.close();
  rmSync(folder, { recursive: true, force: true });
}
