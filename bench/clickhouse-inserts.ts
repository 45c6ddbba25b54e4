/**
 * What an insert into `nps.responses` costs on the embedded engine, by size and by concurrency:
 * why the processor groups the inserts of the partitions it handles at once. A migrated database
 * in a folder of its own; each line is the mean of 20 rounds.
 *
 *   npx tsx bench/clickhouse-inserts.ts
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalizedResponse } from '../src/domain/response.js';
import { createClickHouse } from '../src/storage/clickhouse.js';
import { History } from '../src/storage/history.js';
import type { StoredResponse } from '../src/storage/history.js';
import { migrate } from '../src/storage/migrations.js';

const folder = mkdtempSync(join(tmpdir(), 'nps-ch-inserts-'));
const client = createClickHouse({ kind: 'embedded', path: folder });
const database = 'bench';
await migrate(client, database);
const history = new History(client, database);
let offset = 0;

function rows(n: number, partition: number): StoredResponse[] {
  return Array.from({ length: n }, () => {
    offset += 1;
    return {
      partition,
      offset: String(offset),
      response: normalizedResponse({
        responseId: randomUUID(),
        surveyId: `s${String(offset % 50)}`,
        channel: 'web',
        score: offset % 11,
        comment: offset % 3 === 0 ? 'slow delivery' : null,
        respondentId: null,
        respondedAt: Date.now(),
        receivedAt: Date.now(),
      }),
    };
  });
}

async function time(label: string, round: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  for (let i = 0; i < 20; i++) await round();
  console.log(`${label}: ${((performance.now() - started) / 20).toFixed(1)} ms`);
}

const partitions = [0, 1, 2, 3, 4, 5];
for (let i = 0; i < 5; i++) await history.insert(rows(70, 0), 't'); // warm-up
await time('1 insert of 70 rows', () => history.insert(rows(70, 0), 't'));
await time('1 insert of 420 rows', () => history.insert(rows(420, 0), 't'));
await time('6 inserts of 70 rows at once', () =>
  Promise.all(partitions.map((p) => history.insert(rows(70, p), 't'))),
);
await time('1 insert of 6 x 70 rows (6 partitions)', () =>
  history.insert(
    partitions.flatMap((p) => rows(70, p)),
    't',
  ),
);
await time('SELECT 1', async () => (await client.query({ query: 'SELECT 1' })).text());
await client.close();
rmSync(folder, { recursive: true, force: true });
