import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';
import { freePort } from './net.js';
import { endpoints } from './services.js';

const CLI = fileURLToPath(new URL('../../src/cli/nps.ts', import.meta.url));

/** Env for a child `nps` process: the resolved services, its own embedded ClickHouse folder. */
export function childEnv(pipeline: Record<string, string>): Record<string, string> {
  const e = endpoints();
  const folder = mkdtempSync(join(tmpdir(), 'nps-child-clickhouse-'));
  onTestFinished(() => {
    rmSync(folder, { recursive: true, force: true });
  });
  return {
    ...pipeline,
    KAFKA_BROKERS: e.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: e.schemaRegistryUrl,
    REDIS_URL: e.redisUrl,
    ...(e.clickhouse.kind === 'server'
      ? { CLICKHOUSE_URL: e.clickhouse.url }
      : { CLICKHOUSE_PATH: folder }),
  };
}

export interface Child {
  readonly process: ChildProcess;
  readonly url: string;
  output(): string;
}

/** Spawns the nps CLI with the test's env, output captured; killed when the test ends. */
function spawnNps(args: readonly string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

/** Runs `nps start` as a child process and resolves once it listens; killed when the test ends. */
export async function startChild(
  args: readonly string[],
  env: Record<string, string>,
): Promise<Child> {
  const port = await freePort();
  const { child, output } = spawnNps(['start', '--port', String(port), ...args], {
    ...env,
    PORT: String(port),
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`nps start did not listen within 60s:\n${output()}`));
    }, 60_000);
    const check = () => {
      if (output().includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`nps start exited with ${String(code)}:\n${output()}`));
    });
  });
  return { process: child, url: `http://127.0.0.1:${port}`, output };
}

export async function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      resolve(code);
    }),
  );
}

/** Runs an `nps` command to its end; resolves with its exit code and output. */
export async function runCli(
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const { child, output } = spawnNps(args, env);
  const code = await exited(child);
  return { code, output: output() };
}
