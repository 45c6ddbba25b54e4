import fc from 'fast-check';
import { beforeEach } from 'vitest';

/**
 * One fast-check seed per test file, reported with any failure so it can be replayed:
 * `FC_SEED=<seed> npx vitest run <file>` runs every property of that file on the same inputs again
 * (fast-check also prints the seed and the shrunk path of a failed property). A generator that
 * throws escapes fast-check's own report, which is why the seed is printed here too.
 */
const given = process.env.FC_SEED;
const seed =
  given === undefined || given === '' ? Math.floor(Math.random() * 2 ** 31) : Number(given);
if (!Number.isSafeInteger(seed))
  throw new Error(`FC_SEED must be an integer, not ${String(given)}`);
fc.configureGlobal({ seed });

beforeEach(({ task, onTestFailed }) => {
  onTestFailed(() => {
    const file = task.file.name;
    console.error(
      `[fast-check] "${task.name}" failed; replay with: FC_SEED=${seed} npx vitest run ${file}`,
    );
  });
});
