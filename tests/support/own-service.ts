import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { stopDaemon } from '../../deploy/local/processes.js';
import type { LocalService, StackContext } from '../../deploy/local/service.js';
import { startService } from '../../deploy/local/stack.js';
import { loadConfig } from '../../src/config/config.js';
import { freePortPair } from './net.js';

/**
 * A local-stack service of the test's own (its own folder and ports, started with the stack's
 * code), for fault tests that stop it: stopping it disturbs no other test. Removed at the end.
 */
export async function ownService(
  make: (ctx: StackContext) => LocalService,
  portSetting: 'NPS_STACK_KAFKA_PORT' | 'NPS_STACK_REGISTRY_PORT' | 'NPS_STACK_REDIS_PORT',
): Promise<LocalService> {
  const dir = mkdtempSync(join(tmpdir(), 'nps-own-service-'));
  const port = await freePortPair();
  const service = make({
    config: loadConfig({ ...process.env, NPS_STACK_DIR: dir, [portSetting]: String(port) }),
  });
  onTestFinished(async () => {
    await stopDaemon(service.daemon, 5000);
    rmSync(dir, { recursive: true, force: true });
  });
  await startService(service);
  return service;
}
