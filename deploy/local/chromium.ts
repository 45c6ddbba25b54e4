import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NpsError } from '../../src/errors.js';
import { commandExists, execFileAsync } from './toolchain.js';

/**
 * Debian's `chromium`, for the dashboard's browser tests and screenshots: playwright-core drives it
 * over CDP, so no browser build is downloaded from anywhere but the Debian archive. Installed with
 * apt-get when we are root and it is missing, like redis-server (see redis.ts).
 */
export const CHROMIUM = '/usr/bin/chromium';

export async function ensureChromium(): Promise<string> {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  const root = process.getuid?.() === 0;
  if (!root || !(await commandExists('apt-get'))) {
    throw new NpsError(
      'PREREQUISITE_MISSING',
      `${CHROMIUM} is not installed. Install it (Debian/Ubuntu: sudo apt-get install chromium); ` +
        'the dashboard tests drive it headless.',
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Another test worker (or a person) may be installing at the same moment: wait for dpkg's lock.
  const install = [
    '-o',
    'DPkg::Lock::Timeout=600',
    'install',
    '-y',
    '-q',
    '--no-install-recommends',
    'chromium',
  ];
  const options = { env, maxBuffer: 64 * 1024 * 1024 };
  try {
    await execFileAsync('apt-get', install, options);
  } catch {
    // A fresh machine has no package lists yet.
    await execFileAsync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', 'update', '-q'], options);
    await execFileAsync('apt-get', install, options);
  }
  if (!existsSync(CHROMIUM)) {
    throw new NpsError(
      'PREREQUISITE_MISSING',
      `apt-get installed chromium but ${CHROMIUM} is missing`,
    );
  }
  return CHROMIUM;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  ensureChromium().then(
    (path) => {
      console.log(`chromium: ${path}`);
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    },
  );
}
