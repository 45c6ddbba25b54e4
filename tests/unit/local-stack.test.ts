import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startService } from '../../deploy/local/stack.js';
import type { LocalService } from '../../deploy/local/service.js';
import { portOpen, runningPid, startDaemon, stopDaemon } from '../../deploy/local/processes.js';
import { freePort } from '../support/net.js';

// The stack's orchestration (idempotent start, port checks, pid-file stop, log tails) shown on a
// tiny TCP server process, so these run anywhere; the real services go through the same code in
// every integration run.

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nps-stack-test-'));
  onTestFinished(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

function tcpService(dir: string, port: number, script?: string): LocalService {
  const daemon = {
    name: 'tcp',
    pidFile: join(dir, 'tcp.pid'),
    logFile: join(dir, 'tcp.log'),
    marker: `nps-stack=${dir}`,
  };
  const code = script ?? `require('net').createServer((s) => s.end()).listen(${port}, '127.0.0.1')`;
  return {
    daemon,
    version: () => Promise.resolve('test'),
    address: `127.0.0.1:${port}`,
    env: {},
    ports: [{ port, setting: 'TEST_PORT' }],
    readyTimeoutMs: 3000,
    install: () => Promise.resolve(),
    start: () => {
      startDaemon(daemon, process.execPath, ['-e', code, daemon.marker]);
      return Promise.resolve();
    },
    ready: async () => {
      if (!(await portOpen(port))) throw new Error('not listening');
    },
  };
}

describe('local stack processes', () => {
  it('starting a service that already runs is a no-op: same pid, reported as not started', async () => {
    const dir = tempDir();
    const service = tcpService(dir, await freePort());
    onTestFinished(async () => {
      await stopDaemon(service.daemon);
    });

    expect(await startService(service)).toBe(true);
    const pid = runningPid(service.daemon);
    expect(pid).toBeGreaterThan(0);

    expect(await startService(service)).toBe(false);
    expect(runningPid(service.daemon)).toBe(pid);
  });

  it('a port held by a process the stack did not start is refused, naming the port and the setting', async () => {
    const dir = tempDir();
    const foreign = createServer();
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => {
      foreign.close();
    });
    const { port } = foreign.address() as AddressInfo;

    await expect(startService(tcpService(dir, port))).rejects.toMatchObject({
      code: 'PORT_TAKEN',
      message: expect.stringContaining(`port ${port} on 127.0.0.1 is taken`) as unknown,
    });
    await expect(startService(tcpService(dir, port))).rejects.toThrow(
      /move the stack with TEST_PORT/,
    );
  });

  it('stop leaves alone a live process whose pid is in the pid file but is not ours', async () => {
    const dir = tempDir();
    const service = tcpService(dir, await freePort());
    const stranger = spawn('sleep', ['30'], { stdio: 'ignore' });
    onTestFinished(() => {
      stranger.kill('SIGKILL');
    });
    writeFileSync(service.daemon.pidFile, `${stranger.pid}\n`);

    expect(await stopDaemon(service.daemon)).toBe(false);
    expect(stranger.exitCode).toBeNull();
    expect(stranger.signalCode).toBeNull();
  });

  it('stop ends the process it started', async () => {
    const dir = tempDir();
    const port = await freePort();
    const service = tcpService(dir, port);
    await startService(service);

    expect(await stopDaemon(service.daemon)).toBe(true);
    expect(runningPid(service.daemon)).toBeUndefined();
    expect(await portOpen(port)).toBe(false);
  });

  it('a service that exits while starting fails with the tail of its log', async () => {
    const dir = tempDir();
    const script = `console.error('fatal: listeners misconfigured'); process.exit(3)`;
    const service = tcpService(dir, await freePort(), script);

    await expect(startService(service)).rejects.toThrow(
      /tcp exited while starting[\s\S]*fatal: listeners misconfigured/,
    );
  });
});
