import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { NpsError } from '../../src/errors.js';

/** A service process this stack started: its pid file ties the pid to a marker in its cmdline. */
export interface Daemon {
  readonly name: string;
  readonly pidFile: string;
  readonly logFile: string;
  /** A string only our own process has in its command line (its state folder), to never kill a reused pid. */
  readonly marker: string;
}

export function readPid(daemon: Daemon): number | undefined {
  if (!existsSync(daemon.pidFile)) return undefined;
  const pid = Number(readFileSync(daemon.pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function cmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return undefined;
  }
}

/** True while the process exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    // The state follows the parenthesised name: "1234 (java) S ...".
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The pid of this daemon if it is alive and really ours, else undefined. */
export function runningPid(daemon: Daemon): number | undefined {
  const pid = readPid(daemon);
  if (pid === undefined) return undefined;
  return alive(pid) && cmdline(pid)?.includes(daemon.marker) ? pid : undefined;
}

/** Resident memory of a process in MiB, from /proc. */
export function rssMiB(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? undefined : Math.round(Number(match[1]) / 1024);
  } catch {
    return undefined;
  }
}

/**
 * Starts a detached process whose output goes to its log file only, so that neither this tool nor
 * a CI job waits on its stdio, and records its pid.
 */
export function startDaemon(
  daemon: Daemon,
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): number {
  const log = openSync(daemon.logFile, 'a');
  try {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', log, log],
    });
    if (child.pid === undefined) {
      throw new NpsError('SERVICE_START_FAILED', `${daemon.name}: could not start ${command}`);
    }
    child.unref();
    writeFileSync(daemon.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** SIGTERM, then SIGKILL after the grace period; only a process that is really ours. */
export async function stopDaemon(daemon: Daemon, graceMs = 20_000): Promise<boolean> {
  const pid = runningPid(daemon);
  rmSync(daemon.pidFile, { force: true });
  if (pid === undefined) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await sleep(100);
  }
  process.kill(pid, 'SIGKILL');
  return true;
}

export function tail(file: string, lines = 30): string {
  if (!existsSync(file)) return '(no log yet)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port, timeout: timeoutMs });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.once('connect', () => {
      done(true);
    });
    socket.once('timeout', () => {
      done(false);
    });
    socket.once('error', () => {
      done(false);
    });
  });
}

/**
 * Polls `probe` until it succeeds. On time-out, or when the process died, fails with the tail of
 * the service's log, which is where the real reason is.
 */
export async function waitUntil(
  daemon: Daemon,
  probe: () => Promise<void>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      await probe();
      return;
    } catch (error) {
      last = error;
    }
    // Just after spawn the child may not have exec'd yet (its command line is still ours), so
    // only its death counts here, not a missing marker.
    const pid = readPid(daemon);
    if (pid === undefined || !alive(pid)) {
      throw new NpsError(
        'SERVICE_START_FAILED',
        `${daemon.name} exited while starting. Last lines of ${daemon.logFile}:\n${tail(daemon.logFile)}`,
        { cause: last },
      );
    }
    await sleep(250);
  }
  const why = last instanceof Error ? last.message : String(last);
  throw new NpsError(
    'SERVICE_START_FAILED',
    `${daemon.name} did not answer within ${timeoutMs / 1000}s (${why}). Last lines of ${daemon.logFile}:\n${tail(daemon.logFile)}`,
    { cause: last, retriable: true },
  );
}
