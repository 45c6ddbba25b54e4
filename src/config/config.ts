import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { NpsError } from '../errors.js';
import {
  MAX_SEGMENT_ENTRIES,
  MAX_SEGMENT_KEY,
  SURVEY_ID,
  hasControlCharacters,
} from '../domain/response.js';
import { DEFAULT_SEGMENT_MAX_VALUES } from '../domain/segment.js';
import { parseCaseRule } from '../domain/case-rule.js';

/**
 * The one place that reads `process.env`. Every setting has its env var name, a doc line, the
 * format it expects and a default where one is safe; `loadConfig` validates all of them at once
 * and reports every bad key in a single error.
 */

type Env = Readonly<Record<string, string | undefined>>;

interface Setting<T> {
  readonly env: string;
  /** What the setting does, as the README's configuration table says it (Markdown). */
  readonly doc: string;
  /**
   * The default as the README shows it, where the fallback cannot say it: a service the local
   * stack provides, a feature that is off, a file found at run time.
   */
  readonly shownDefault?: string;
  /** Human-readable expected format, used in error messages and the README table. */
  readonly format: string;
  /** Default when the variable is unset; `undefined` means the setting is optional. */
  readonly fallback?: (env: Env) => string;
  readonly parse: (raw: string) => T;
}

function string(format = 'text'): Pick<Setting<string>, 'format' | 'parse'> {
  return {
    format,
    parse: (raw) => {
      if (raw.trim() === '') throw new Error('must not be empty');
      return raw.trim();
    },
  };
}

/** A secret of at least `min` characters; the error names the length, never the value. */
function secret(
  min: number,
  options?: { trim: boolean },
): Pick<Setting<string>, 'format' | 'parse'> {
  return {
    format: `secret, ${min}+ characters`,
    parse: (raw) => {
      const value = options?.trim ? raw.trim() : raw;
      if (value.length < min) throw new Error(`is shorter than ${min} characters`);
      return value;
    },
  };
}

function url(protocols: readonly string[]): Pick<Setting<string>, 'format' | 'parse'> {
  const format = protocols.map((p) => `${p}//host:port`).join(' or ');
  return {
    format,
    parse: (raw) => {
      let parsed: URL;
      try {
        parsed = new URL(raw.trim());
      } catch (cause) {
        throw new Error(`is not a URL`, { cause });
      }
      if (!protocols.includes(parsed.protocol)) {
        throw new Error(`has protocol ${parsed.protocol}, expected ${protocols.join(' or ')}`);
      }
      return raw.trim().replace(/\/+$/, '');
    },
  };
}

function hostPortList(): Pick<Setting<readonly string[]>, 'format' | 'parse'> {
  return {
    format: 'comma-separated host:port list',
    parse: (raw) => {
      const brokers = raw
        .split(',')
        .map((b) => b.trim())
        .filter((b) => b !== '');
      if (brokers.length === 0) throw new Error('lists no broker');
      for (const broker of brokers) {
        if (!/^[^\s:/]+:\d{1,5}$/.test(broker)) throw new Error(`has "${broker}", not host:port`);
      }
      return brokers;
    },
  };
}

function port(): Pick<Setting<number>, 'format' | 'parse'> {
  return {
    format: 'TCP port 1-65535',
    parse: (raw) => {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error('is not a port number');
      return n;
    },
  };
}

function integer(min: number, max: number): Pick<Setting<number>, 'format' | 'parse'> {
  return {
    format: `integer ${min}-${max}`,
    parse: (raw) => {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < min || n > max) throw new Error('is out of range');
      return n;
    },
  };
}

function identifier(): Pick<Setting<string>, 'format' | 'parse'> {
  return {
    format: 'identifier [A-Za-z_][A-Za-z0-9_]*',
    parse: (raw) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(raw)) throw new Error('is not an identifier');
      return raw;
    },
  };
}

function topicName(): Pick<Setting<string>, 'format' | 'parse'> {
  return {
    format: 'Kafka topic name [A-Za-z0-9._-]{1,200}',
    parse: (raw) => {
      if (!/^[A-Za-z0-9._-]{1,200}$/.test(raw)) throw new Error('is not a topic name');
      return raw;
    },
  };
}

function userDir(xdgVar: string, fallback: string): (env: Env) => string {
  return (env) => join(env[xdgVar] ?? join(env.HOME ?? homedir(), fallback), 'nps-pipeline');
}

/**
 * Fixed, non-default loopback ports of the local stack (and of deploy/docker-compose.yml), so it
 * never collides with a Kafka, registry or Redis the user already runs on the usual ports.
 */
export const LOCAL_PORTS = {
  kafka: 19092,
  kafkaController: 19093,
  schemaRegistry: 18081,
  redis: 16379,
  clickhouseHttp: 18123,
  /** The SQL endpoint as `npm start` turns it on: next to compose's ClickHouse, not on 8123. */
  sqlEndpoint: 18124,
} as const;

export const settings = {
  kafkaBrokers: {
    env: 'KAFKA_BROKERS',
    doc: 'Kafka bootstrap brokers, comma-separated `host:port`.',
    shownDefault: 'local stack / compose',
    ...hostPortList(),
  },
  schemaRegistryUrl: {
    env: 'SCHEMA_REGISTRY_URL',
    doc: 'Confluent-compatible registry URL (Apicurio: `.../apis/ccompat/v7`).',
    shownDefault: 'local stack / compose',
    ...url(['http:', 'https:']),
  },
  redisUrl: {
    env: 'REDIS_URL',
    doc: '`redis://` or `rediss://` URL for live windows.',
    shownDefault: 'local stack / compose',
    ...url(['redis:', 'rediss:']),
  },
  clickhouseUrl: {
    env: 'CLICKHOUSE_URL',
    doc: 'ClickHouse server HTTP URL.',
    shownDefault: 'unset: embedded engine',
    ...url(['http:', 'https:']),
  },
  clickhouseUser: {
    env: 'CLICKHOUSE_USER',
    doc: 'ClickHouse user, with `CLICKHOUSE_URL`.',
    ...string(),
    fallback: () => 'default',
  },
  clickhousePassword: {
    env: 'CLICKHOUSE_PASSWORD',
    doc: 'ClickHouse password, with `CLICKHOUSE_URL`. Never logged.',
    shownDefault: 'empty',
    format: 'text',
    parse: (raw: string) => raw,
    fallback: () => '',
  },
  clickhousePath: {
    env: 'CLICKHOUSE_PATH',
    doc: 'Data folder of the embedded engine. One process at a time may own it.',
    ...string('folder path'),
    fallback: (env: Env) => join(userDir('XDG_DATA_HOME', '.local/share')(env), 'clickhouse'),
  },
  stackDir: {
    env: 'NPS_STACK_DIR',
    doc: 'Local stack data, pid files and logs.',
    ...string('folder path'),
    fallback: (env: Env) => join(userDir('XDG_STATE_HOME', '.local/state')(env), 'stack'),
  },
  cacheDir: {
    env: 'NPS_CACHE_DIR',
    doc: 'Local stack downloads (Kafka jars, Apicurio).',
    ...string('folder path'),
    fallback: userDir('XDG_CACHE_HOME', '.cache'),
  },
  apicurioJavaHome: {
    env: 'APICURIO_JAVA_HOME',
    doc: 'JDK for the local registry (21+ for 3.3.3, 17 for 3.0.9).',
    shownDefault: 'newest JDK found',
    ...string('JDK folder'),
  },
  kafkaJavaHome: {
    env: 'KAFKA_JAVA_HOME',
    doc: 'JDK for the local Kafka broker (17+).',
    shownDefault: '`java` on PATH',
    ...string('JDK folder'),
  },
  stackKafkaPort: {
    env: 'NPS_STACK_KAFKA_PORT',
    doc: 'Local stack Kafka port; the controller takes the next one.',
    ...port(),
    fallback: () => String(LOCAL_PORTS.kafka),
  },
  stackRegistryPort: {
    env: 'NPS_STACK_REGISTRY_PORT',
    doc: 'Local stack schema registry port.',
    ...port(),
    fallback: () => String(LOCAL_PORTS.schemaRegistry),
  },
  stackRedisPort: {
    env: 'NPS_STACK_REDIS_PORT',
    doc: 'Local stack Redis port.',
    ...port(),
    fallback: () => String(LOCAL_PORTS.redis),
  },
  clickhouseDatabase: {
    env: 'CLICKHOUSE_DATABASE',
    doc: 'ClickHouse database of the history tables.',
    ...identifier(),
    fallback: () => 'nps',
  },
  topic: {
    env: 'NPS_TOPIC',
    doc: 'Kafka topic of responses (Avro, subject `<topic>-value`, BACKWARD).',
    ...topicName(),
    fallback: () => 'nps.responses.v1',
  },
  deadLetterTopic: {
    env: 'NPS_DLQ_TOPIC',
    doc: 'Dead-letter topic; the reason is in the `nps-dlq-reason` header.',
    ...topicName(),
    fallback: () => 'nps.responses.v1.dlq',
  },
  invitationTopic: {
    env: 'NPS_INVITATION_TOPIC',
    doc: 'Kafka topic of invitation facts (created, opened; JSON), partitioned like `NPS_TOPIC`.',
    ...topicName(),
    fallback: () => 'nps.invitations.v1',
  },
  topicPartitions: {
    env: 'NPS_TOPIC_PARTITIONS',
    doc: 'Partitions of the topic when it is created.',
    ...integer(1, 1000),
    fallback: () => '6',
  },
  consumerGroup: {
    env: 'NPS_CONSUMER_GROUP',
    doc: 'Consumer group of the stream processors.',
    ...string('group id'),
    fallback: () => 'nps-processor',
  },
  redisPrefix: {
    env: 'NPS_REDIS_PREFIX',
    doc: 'Prefix of every Redis key the pipeline writes.',
    ...string('key prefix'),
    fallback: () => 'nps:',
  },
  dedupeDays: {
    env: 'NPS_DEDUPE_DAYS',
    doc: 'How long a `responseId` is remembered for deduplication.',
    ...integer(31, 3650),
    fallback: () => '35',
  },
  minResponses: {
    env: 'NPS_MIN_RESPONSES',
    doc: 'Below this many responses every score carries `lowSample: true`, and `compare` never calls a difference significant.',
    ...integer(1, 1_000_000),
    fallback: () => '30',
  },
  shiftWarmUp: {
    env: 'NPS_SHIFT_WARM_UP',
    doc: 'Responses a [shift detector](#shifts-when-the-nps-level-changes) learns its baseline from before it may flag a shift, at the start and again after each shift. Shorter flags sooner after a start and raises more false alarms.',
    ...integer(10, 1_000_000),
    fallback: () => '2000',
  },
  segmentKeys: {
    env: 'NPS_SEGMENT_KEYS',
    doc: 'Segment keys (comma list, e.g. `region,store,plan`) live windows are sliced by and reads filter on. See [Segments](#segments-by-store-region-or-campaign).',
    shownDefault: 'empty: no slicing',
    format: 'comma list of segment keys (1-64 characters each, at most 10)',
    parse: (raw: string): readonly string[] => {
      const keys = [...new Set(raw.split(',').map((k) => k.trim()))].filter((k) => k !== '');
      for (const key of keys) {
        // The limits of a response's segment keys: any other could never be present.
        if (key.length > MAX_SEGMENT_KEY || hasControlCharacters(key))
          throw new Error(`has "${key}", not a segment key`);
      }
      if (keys.length > MAX_SEGMENT_ENTRIES) throw new Error('lists too many keys');
      return keys;
    },
    fallback: () => '',
  },
  segmentMaxValues: {
    env: 'NPS_SEGMENT_MAX_VALUES',
    doc: 'Values of a segment key live windows track per survey; further values count under `other`. Bounds Redis memory.',
    ...integer(1, 100_000),
    fallback: () => String(DEFAULT_SEGMENT_MAX_VALUES),
  },
  // Follow-up cases (src/storage/cases.ts).
  caseRule: {
    env: 'NPS_CASE_RULE',
    doc: 'Which responses open a [follow-up case](#follow-up-cases-closing-the-loop): `detractor`, `passive`, `promoter`, `score<=N`, `theme:<id>`; `,` = and, `|` = or, e.g. `detractor,theme:billing`.',
    format:
      'case rule such as detractor, score<=4, detractor,theme:billing or theme:delivery|theme:price',
    parse: (raw: string) => parseCaseRule(raw),
    fallback: () => 'detractor',
  },
  caseSlaHours: {
    env: 'NPS_CASE_SLA_HOURS',
    doc: 'Hours after a response that its case is due for a first contact (`dueAt`); past it without one, the case is overdue.',
    ...integer(1, 8760),
    fallback: () => '48',
  },
  taxonomy: {
    env: 'NPS_TAXONOMY',
    doc: "Comment theme taxonomy (JSON): a company's own themes, terms and labels. Its `version` is stored with every tag; run `nps retag` after changing it.",
    shownDefault: '`schemas/taxonomy/default.json`',
    ...string('path to a JSON file'),
  },
  port: {
    env: 'PORT',
    doc: 'HTTP port of the API and ingest endpoints.',
    ...port(),
    fallback: () => '8080',
  },
  // Dashboard and first run (src/dashboard).
  host: {
    env: 'NPS_HOST',
    doc: 'Address the HTTP server listens on; anything but loopback (e.g. `0.0.0.0`) requires `NPS_API_KEYS`.',
    format: 'IP address (127.0.0.1, ::1, 0.0.0.0, ::) or localhost',
    parse: (raw: string) => {
      const host = raw.trim();
      if (host !== 'localhost' && isIP(host) === 0) throw new Error('is not an IP address');
      return host;
    },
    fallback: () => '127.0.0.1',
  },
  stateDir: {
    env: 'NPS_STATE_DIR',
    doc: 'Folder of the local admin key a first run makes and of the generated session secret.',
    ...string('folder path'),
    fallback: userDir('XDG_STATE_HOME', '.local/state'),
  },
  sessionSecret: {
    env: 'NPS_SESSION_SECRET',
    doc: 'Signs dashboard session cookies (32+ characters); set the same one on every api process.',
    shownDefault: 'made once in `NPS_STATE_DIR`',
    ...secret(32),
  },
  sessionHours: {
    env: 'NPS_SESSION_HOURS',
    doc: 'Hours a dashboard sign-in lasts before its cookie expires.',
    ...integer(1, 720),
    fallback: () => '12',
  },
  publicBaseUrl: {
    env: 'PUBLIC_BASE_URL',
    doc: 'Public URL of this service, for links and webhook signatures.',
    ...url(['http:', 'https:']),
    fallback: (env: Env) => `http://127.0.0.1:${env.PORT ?? '8080'}`,
  },
  apiKeys: {
    env: 'NPS_API_KEYS',
    doc: 'Comma list of `key:scope[:survey|survey]`, scope `ingest`, `read`, `sql`, `cases` or `admin`; a key is 16+ characters, or `sha256:<64 hex>` of the key so the secret is not in the environment; a survey list restricts the key to those surveys.',
    format: 'comma list of key:scope[:survey|survey], key 16+ characters or sha256:<64 hex>',
    parse: (raw: string) => parseApiKeys(raw),
    fallback: () => '',
  },
  twilioAuthToken: {
    env: 'TWILIO_AUTH_TOKEN',
    doc: 'Twilio auth token; verifies `X-Twilio-Signature`.',
    shownDefault: 'none: SMS webhook off',
    ...string('secret'),
  },
  mailgunSigningKey: {
    env: 'MAILGUN_SIGNING_KEY',
    doc: 'Mailgun signing key; verifies inbound email posts.',
    shownDefault: 'none: email webhook off',
    ...string('secret'),
  },
  linkSecret: {
    env: 'NPS_LINK_SECRET',
    doc: 'Signs invitation tokens and score links (16+ characters).',
    shownDefault: 'none: invitations off',
    ...secret(16),
  },
  recontactDays: {
    env: 'NPS_RECONTACT_DAYS',
    doc: 'Days after an invitation or an answer in which the same respondent is not invited again (409); 0 off.',
    ...integer(0, 3650),
    fallback: () => '30',
  },
  rateLimitPerKey: {
    env: 'NPS_RATE_LIMIT_PER_KEY',
    doc: 'Ingest requests a second per API key (burst twice that); 429 with `Retry-After` past it; 0 off. Per process.',
    ...integer(0, 1_000_000),
    fallback: () => '100',
  },
  rateLimitPerIp: {
    env: 'NPS_RATE_LIMIT_PER_IP',
    doc: 'Failed authentications (key, signature, link) a second per client address (burst twice that); 0 off. Per process.',
    ...integer(0, 1_000_000),
    fallback: () => '50',
  },
  trustProxy: {
    env: 'NPS_TRUST_PROXY',
    doc: 'Reverse proxies in front whose `X-Forwarded-For` gives the client address.',
    ...integer(0, 10),
    fallback: () => '0',
  },
  corsOrigins: {
    env: 'NPS_CORS_ORIGINS',
    doc: 'Browser origins (comma list, e.g. `https://shop.example`) allowed to call the API, for widgets posting responses.',
    format: 'comma list of origins such as https://shop.example',
    parse: (raw: string) => {
      const origins = raw
        .split(',')
        .map((o) => o.trim())
        .filter((o) => o !== '');
      for (const origin of origins) {
        let parsed: URL | undefined;
        try {
          parsed = new URL(origin);
        } catch {
          parsed = undefined;
        }
        if (!parsed || parsed.origin !== origin)
          throw new Error(`has "${origin}", not an origin like https://host[:port]`);
      }
      return origins;
    },
    fallback: () => '',
  },
  pseudonymKey: {
    env: 'NPS_PSEUDONYM_KEY',
    doc: 'Secret of the keyed HMAC that pseudonymizes phone numbers and emails (16+ characters).',
    // Trimmed, as it always was: the pseudonyms stored so far were made with the trimmed key.
    ...secret(16, { trim: true }),
  },
  // The read-only ClickHouse-compatible SQL endpoint (src/sql).
  sqlPort: {
    env: 'NPS_SQL_PORT',
    doc: 'Port of the read-only ClickHouse-compatible SQL endpoint (embedded engine only); `npm start` sets `18124`. See [SQL endpoint](#sql-endpoint-connect-your-own-tools).',
    shownDefault: 'none: SQL endpoint off',
    ...port(),
  },
  sqlMaxExecutionTime: {
    env: 'NPS_SQL_MAX_SECONDS',
    doc: 'Seconds one SQL statement may run (`max_execution_time`); a client may ask for less.',
    ...integer(1, 86_400),
    fallback: () => '30',
  },
  sqlMaxResultRows: {
    env: 'NPS_SQL_MAX_ROWS',
    doc: 'Rows one SQL result may have (`max_result_rows`); 0: no limit.',
    ...integer(0, 1e15),
    fallback: () => '10000000',
  },
  sqlMaxResultBytes: {
    env: 'NPS_SQL_MAX_BYTES',
    doc: 'Uncompressed bytes one SQL result may have (`max_result_bytes`); 0: no limit.',
    ...integer(0, 1e15),
    fallback: () => String(1024 ** 3),
  },
  sqlMaxMemoryUsage: {
    env: 'NPS_SQL_MAX_MEMORY',
    doc: 'Memory one SQL statement may use, bytes (`max_memory_usage`); 0: no limit.',
    ...integer(0, 1e15),
    fallback: () => String(1024 ** 3),
  },
  sqlMaxThreads: {
    env: 'NPS_SQL_THREADS',
    doc: 'Engine threads one SQL statement may use (`max_threads`).',
    ...integer(1, 256),
    fallback: () => '1',
  },
  sqlMaxRunning: {
    env: 'NPS_SQL_RUNNING',
    doc: 'SQL statements running at once in the process; more wait their turn.',
    ...integer(1, 64),
    fallback: () => '2',
  },
  sqlMaxQueriesPerKey: {
    env: 'NPS_SQL_PER_KEY',
    doc: 'SQL statements one API key may have open at once; more are refused (code 202).',
    ...integer(1, 1000),
    fallback: () => '4',
  },
  // Outbound webhooks (src/events).
  eventsTopic: {
    env: 'NPS_EVENTS_TOPIC',
    doc: 'Kafka topic of the events the processor derives (JSON) and the deliverer sends to subscriptions.',
    ...topicName(),
    fallback: () => 'nps.events.v1',
  },
  eventsDeadLetterTopic: {
    env: 'NPS_EVENTS_DLQ_TOPIC',
    doc: 'Dead-letter topic of webhook deliveries that failed for the whole retry window.',
    ...topicName(),
    fallback: () => 'nps.events.dlq.v1',
  },
  webhookAllowHttp: {
    env: 'NPS_WEBHOOK_ALLOW_HTTP',
    doc: 'Lets subscription URLs use http (1); otherwise only https.',
    ...integer(0, 1),
    fallback: () => '0',
  },
  webhookAllowPrivate: {
    env: 'NPS_WEBHOOK_ALLOW_PRIVATE',
    doc: 'Lets subscription URLs reach loopback, private, link-local and metadata addresses (1); for tests and closed networks.',
    ...integer(0, 1),
    fallback: () => '0',
  },
  webhookRetryHours: {
    env: 'NPS_WEBHOOK_RETRY_HOURS',
    doc: 'Hours a failing webhook delivery is retried before it goes to the dead-letter topic.',
    // Fractions too, so a test can see a delivery dead-lettered within seconds.
    format: 'number of hours, more than 0, at most 168',
    parse: (raw: string) => {
      const n = Number(raw);
      if (!Number.isFinite(n) || n <= 0 || n > 168) throw new Error('is out of range');
      return n;
    },
    fallback: () => '24',
  },
  webhookTimeoutMs: {
    env: 'NPS_WEBHOOK_TIMEOUT_MS',
    doc: 'Milliseconds a receiver has to answer one delivery before it counts as failed.',
    ...integer(100, 60_000),
    fallback: () => '10000',
  },
  webhookConcurrency: {
    env: 'NPS_WEBHOOK_CONCURRENCY',
    doc: "Deliveries in flight to one subscription at most (kept-alive connections to its receiver). One subscription takes about this many divided by its receiver's answer time a second: 64 at 50 ms is 1,280 a second.",
    ...integer(1, 1024),
    fallback: () => '64',
  },
  webhookBackoffMs: {
    env: 'NPS_WEBHOOK_BACKOFF_MS',
    doc: 'First retry delay of a failed delivery, doubling (with jitter) up to an hour.',
    ...integer(10, 3_600_000),
    fallback: () => '5000',
  },
} as const satisfies Record<string, Setting<unknown>>;

export const SCOPES = ['ingest', 'read', 'sql', 'cases', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** One API key as configured: only its SHA-256 is kept in memory. */
export interface ApiKey {
  readonly sha256: Buffer;
  readonly scopes: ReadonlySet<Scope>;
  /** Survey ids the key may touch; null for every survey. */
  readonly surveys: ReadonlySet<string> | null;
  /** The key itself when it was given in clear (for `nps demo`); undefined for hashed keys. */
  readonly plain?: string;
}

/**
 * `key:scope[:survey1|survey2]`, comma-separated. A key may be given as `sha256:<64 hex>` so the
 * secret itself never sits in the environment.
 */
function parseApiKeys(raw: string): readonly ApiKey[] {
  const keys = new Map<
    string,
    { sha256: Buffer; scopes: Set<Scope>; surveys: Set<string> | null; plain?: string }
  >();
  const entries = raw
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  for (const entry of entries) {
    const parts = entry.split(':');
    let surveys: Set<string> | null = null;
    if (parts.length >= 3 && !(SCOPES as readonly string[]).includes(parts.at(-1) ?? '')) {
      surveys = new Set((parts.pop() ?? '').split('|'));
      if ([...surveys].some((id) => !SURVEY_ID.test(id))) {
        throw new Error('has a survey restriction that is not a |-list of survey ids');
      }
    }
    const scope = parts.pop() ?? '';
    const key = parts.join(':');
    if (!(SCOPES as readonly string[]).includes(scope) || key === '') {
      throw new Error(
        `has an entry that is not key:scope[:surveys] with scope ${SCOPES.join(', ')}`,
      );
    }
    const hashed = /^sha256:([0-9a-fA-F]{64})$/.exec(key);
    if (!hashed && key.length < 16) throw new Error('has a key shorter than 16 characters');
    const sha256 = hashed?.[1]
      ? Buffer.from(hashed[1], 'hex')
      : createHash('sha256').update(key).digest();
    const id = sha256.toString('hex');
    const existing = keys.get(id);
    if (existing) {
      existing.scopes.add(scope as Scope);
      if (existing.surveys && surveys) for (const s of surveys) existing.surveys.add(s);
      else existing.surveys = null;
    } else {
      keys.set(id, {
        sha256,
        scopes: new Set([scope as Scope]),
        surveys,
        ...(!hashed && { plain: key }),
      });
    }
  }
  return [...keys.values()];
}

type Settings = typeof settings;
type Parsed<S> = S extends { parse: (raw: string) => infer T } ? T : never;
type HasFallback<S> = S extends { fallback: unknown } ? true : false;

export type Config = {
  readonly [K in keyof Settings]: HasFallback<Settings[K]> extends true
    ? Parsed<Settings[K]>
    : Parsed<Settings[K]> | undefined;
};

/** Reads and validates every setting; throws one ConfigError naming each bad key. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(settings) as [string, Setting<unknown>][]) {
    const given = env[setting.env];
    const raw = given !== undefined && given !== '' ? given : setting.fallback?.(env);
    if (raw === undefined) {
      out[key] = undefined;
      continue;
    }
    try {
      out[key] = setting.parse(raw);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      problems.push(`${setting.env} ${why} (expected ${setting.format})`);
    }
  }
  if (problems.length > 0) {
    throw new NpsError('CONFIG_INVALID', `Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return out as Config;
}
