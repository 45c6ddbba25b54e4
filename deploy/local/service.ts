import type { Config } from '../../src/config/config.js';
import type { Daemon } from './processes.js';

export interface StackContext {
  readonly config: Config;
}

/** One service of the local stack: how to fetch it, start it, and ask it a real question. */
export interface LocalService {
  readonly daemon: Daemon;
  version(): Promise<string>;
  readonly address: string;
  /** The env vars the app and tests use to reach it. */
  readonly env: Readonly<Record<string, string>>;
  /** Ports it binds, with the setting that moves each. */
  readonly ports: readonly { readonly port: number; readonly setting: string }[];
  readonly readyTimeoutMs: number;
  /** Fetches what it needs into the user-level cache; a no-op when cached. */
  install(): Promise<void>;
  start(): Promise<void>;
  /** Resolves when the service answered a real request; rejects otherwise. */
  ready(): Promise<void>;
}
