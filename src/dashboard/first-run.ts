import { createHash, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { SCOPES } from '../config/config.js';
import type { ApiKey, Config } from '../config/config.js';
import { NpsError } from '../errors.js';
import { newApiKey } from './keys.js';

/**
 * First run: a fresh clone started with no NPS_API_KEYS on loopback gets a local admin key (every
 * scope), made once and kept in the state folder, so the dashboard and `nps demo` work at once.
 * Bound to anything else, the process refuses to start without keys: an open port must not
 * answer with data, nor invent a key only the server's disk knows.
 */

const LOCAL_ADMIN_KEY_FILE = 'local-admin-key';
const SESSION_SECRET_FILE = 'session-secret';

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  const v4 = host.startsWith('::ffff:') ? host.slice(7) : host;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

export interface Access {
  /** The keys the process accepts: NPS_API_KEYS, or else the local admin key. */
  readonly apiKeys: readonly ApiKey[];
  /** Present when the local admin key is in use. */
  readonly localAdmin?: {
    readonly key: string;
    readonly file: string;
    /** True when this start made it (the only time it is printed). */
    readonly created: boolean;
  };
}

/**
 * Reads `name` in the state folder, or writes `make()` there first. The exclusive link makes two
 * processes started together agree on one value.
 */
function keptValue(stateDir: string, name: string, make: () => string): [string, boolean] {
  const file = join(stateDir, name);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  // Written whole under another name, then linked: a reader never sees a half-written file.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(draft, `${make()}\n`, { mode: 0o600 });
  let created = true;
  try {
    linkSync(draft, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    created = false;
  } finally {
    rmSync(draft, { force: true });
  }
  const value = readFileSync(file, 'utf8').trim();
  if (value === '')
    throw new NpsError('CONFIG_INVALID', `${file} is empty; delete it to make a new one`);
  return [value, created];
}

export function resolveAccess(config: Pick<Config, 'apiKeys' | 'host' | 'stateDir'>): Access {
  if (config.apiKeys.length > 0) return { apiKeys: config.apiKeys };
  if (!isLoopback(config.host)) {
    throw new NpsError(
      'CONFIG_INVALID',
      `NPS_API_KEYS is required when listening on ${config.host}, which is not a loopback address: ` +
        'give keys (nps keys create --scope read prints one), or set NPS_HOST=127.0.0.1',
    );
  }
  const [key, created] = keptValue(config.stateDir, LOCAL_ADMIN_KEY_FILE, newApiKey);
  return {
    apiKeys: [
      {
        sha256: createHash('sha256').update(key).digest(),
        scopes: new Set(SCOPES),
        surveys: null,
        plain: key,
      },
    ],
    localAdmin: { key, file: join(config.stateDir, LOCAL_ADMIN_KEY_FILE), created },
  };
}

/** The local admin key made by a first run, if any (for `nps demo` without NPS_API_KEYS). */
export function localAdminKey(stateDir: string): string | undefined {
  try {
    const key = readFileSync(join(stateDir, LOCAL_ADMIN_KEY_FILE), 'utf8').trim();
    return key === '' ? undefined : key;
  } catch {
    return undefined;
  }
}

/** NPS_SESSION_SECRET, else a random one made once in the state folder. */
export function sessionSecret(config: Pick<Config, 'sessionSecret' | 'stateDir'>): Buffer {
  if (config.sessionSecret !== undefined) return Buffer.from(config.sessionSecret);
  const [secret] = keptValue(config.stateDir, SESSION_SECRET_FILE, () =>
    randomBytes(32).toString('base64url'),
  );
  return Buffer.from(secret);
}
