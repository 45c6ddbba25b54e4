import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { NpsError } from '../errors.js';
import { MAX_SEGMENT_ENTRIES, MAX_SEGMENT_KEY, hasControlCharacters } from '../domain/response.js';
import { DEFAULT_SEGMENT_MAX_VALUES } from '../domain/segment.js';
import { parseCaseRule } from '../events/case-rule.js';

/**
 * The one place that reads `process.env`. Every setting has its env var name, a doc line, the
 * format it expects and a default where one is safe; `loadConfig` validates all of them at once
 * and reports every bad key in a single error.
 */

type Env = Readonly<Record<string, string | undefined>>;

interface Setting<T> {
  readonly env: string;
  readonly doc: string;
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
    doc: 'Kafka bootstrap brokers. Unset: the local stack (or docker compose) broker.',
    ...hostPortList(),
  },
  schemaRegistryUrl: {
    env: 'SCHEMA_REGISTRY_URL',
    doc: 'Confluent-compatible schema registry base URL (for Apicurio: .../apis/ccompat/v7).',
    ...url(['http:', 'https:']),
  },
  redisUrl: {
    env: 'REDIS_URL',
    doc: 'Redis URL for live windows.',
    ...url(['redis:', 'rediss:']),
  },
  clickhouseUrl: {
    env: 'CLICKHOUSE_URL',
    doc: 'ClickHouse server HTTP URL. Unset: the embedded engine (chdb) in CLICKHOUSE_PATH.',
    ...url(['http:', 'https:']),
  },
  clickhouseUser: {
    env: 'CLICKHOUSE_USER',
    doc: 'ClickHouse user, with CLICKHOUSE_URL.',
    ...string(),
    fallback: () => 'default',
  },
  clickhousePassword: {
    env: 'CLICKHOUSE_PASSWORD',
    doc: 'ClickHouse password, with CLICKHOUSE_URL. Never logged.',
    format: 'text',
    parse: (raw: string) => raw,
    fallback: () => '',
  },
  clickhousePath: {
    env: 'CLICKHOUSE_PATH',
    doc: 'Data folder of the embedded ClickHouse engine; one process at a time may own it.',
    ...string('folder path'),
    fallback: (env: Env) => join(userDir('XDG_DATA_HOME', '.local/share')(env), 'clickhouse'),
  },
  stackDir: {
    env: 'NPS_STACK_DIR',
    doc: 'Where the local stack keeps its data, pid files and logs.',
    ...string('folder path'),
    fallback: (env: Env) => join(userDir('XDG_STATE_HOME', '.local/state')(env), 'stack'),
  },
  cacheDir: {
    env: 'NPS_CACHE_DIR',
    doc: 'Where the local stack caches its downloads (Kafka jars, Apicurio), outside the clone.',
    ...string('folder path'),
    fallback: userDir('XDG_CACHE_HOME', '.cache'),
  },
  apicurioJavaHome: {
    env: 'APICURIO_JAVA_HOME',
    doc: 'JDK for the local schema registry. Unset: the newest JDK found (Apicurio 3.3 needs 21+).',
    ...string('JDK folder'),
  },
  kafkaJavaHome: {
    env: 'KAFKA_JAVA_HOME',
    doc: 'JDK for the local Kafka broker (17+). Unset: java on PATH.',
    ...string('JDK folder'),
  },
  stackKafkaPort: {
    env: 'NPS_STACK_KAFKA_PORT',
    doc: 'Local stack: Kafka broker port (the controller takes the next one).',
    ...port(),
    fallback: () => String(LOCAL_PORTS.kafka),
  },
  stackRegistryPort: {
    env: 'NPS_STACK_REGISTRY_PORT',
    doc: 'Local stack: schema registry port (its management interface takes the next one).',
    ...port(),
    fallback: () => String(LOCAL_PORTS.schemaRegistry),
  },
  stackRedisPort: {
    env: 'NPS_STACK_REDIS_PORT',
    doc: 'Local stack: Redis port.',
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
    doc: 'Kafka topic of normalized responses (Avro, subject <topic>-value).',
    ...topicName(),
    fallback: () => 'nps.responses.v1',
  },
  deadLetterTopic: {
    env: 'NPS_DLQ_TOPIC',
    doc: 'Dead-letter topic for records that cannot be decoded or fail validation.',
    ...topicName(),
    fallback: () => 'nps.responses.v1.dlq',
  },
  invitationTopic: {
    env: 'NPS_INVITATION_TOPIC',
    doc: 'Kafka topic of invitation facts (created, opened; JSON), feeding the response-rate funnel.',
    ...topicName(),
    fallback: () => 'nps.invitations.v1',
  },
  topicPartitions: {
    env: 'NPS_TOPIC_PARTITIONS',
    doc: 'Partitions of the responses topic when it is created (the processor scales to this).',
    ...integer(1, 1000),
    fallback: () => '6',
  },
  consumerGroup: {
    env: 'NPS_CONSUMER_GROUP',
    doc: 'Kafka consumer group of the stream processors.',
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
    doc: 'How long a responseId is remembered to count a repeat of it once (longer than 30 d).',
    ...integer(31, 3650),
    fallback: () => '35',
  },
  minResponses: {
    env: 'NPS_MIN_RESPONSES',
    doc: 'Below this many responses a score is flagged lowSample, and a comparison is never called significant.',
    ...integer(1, 1_000_000),
    fallback: () => '30',
  },
  shiftWarmUp: {
    env: 'NPS_SHIFT_WARM_UP',
    doc: 'Responses a shift detector learns its baseline from before it may flag a shift, at the start and after each shift.',
    ...integer(10, 1_000_000),
    fallback: () => '2000',
  },
  segmentKeys: {
    env: 'NPS_SEGMENT_KEYS',
    doc: 'Segment keys live windows are sliced by, and that live, stream, history and compare filter on (segment.<key>=<value>). Empty: no slicing.',
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
    doc: 'Values of a segment key tracked live per survey; responses with further values count under the value `other` (bounds Redis memory).',
    ...integer(1, 100_000),
    fallback: () => String(DEFAULT_SEGMENT_MAX_VALUES),
  },
  // Follow-up cases (src/storage/cases.ts).
  caseRule: {
    env: 'NPS_CASE_RULE',
    doc: 'Which responses open a follow-up case: terms detractor, passive, promoter, score<=N, theme:<id>; "," = and, "|" = or.',
    format:
      'case rule such as detractor, score<=4, detractor,theme:billing or theme:delivery|theme:price',
    parse: (raw: string) => parseCaseRule(raw),
    fallback: () => 'detractor',
  },
  caseSlaHours: {
    env: 'NPS_CASE_SLA_HOURS',
    doc: 'Hours after a response that its case is due for a first contact (dueAt); later it counts as overdue.',
    ...integer(1, 8760),
    fallback: () => '48',
  },
  taxonomy: {
    env: 'NPS_TAXONOMY',
    doc: 'Theme taxonomy file (JSON, see schemas/taxonomy/default.json). Unset: the default taxonomy.',
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
    doc: 'Address the HTTP server listens on; anything but loopback (e.g. 0.0.0.0) requires NPS_API_KEYS.',
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
    doc: 'Folder of the local admin key made on first run and of the generated session secret.',
    ...string('folder path'),
    fallback: userDir('XDG_STATE_HOME', '.local/state'),
  },
  sessionSecret: {
    env: 'NPS_SESSION_SECRET',
    doc: 'Signs dashboard session cookies; set the same one on every api process. Unset: generated once into NPS_STATE_DIR.',
    format: 'secret, 32+ characters',
    parse: (raw: string) => {
      if (raw.length < 32) throw new Error('is shorter than 32 characters');
      return raw;
    },
  },
  sessionHours: {
    env: 'NPS_SESSION_HOURS',
    doc: 'Hours a dashboard sign-in lasts before the session cookie expires.',
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
    doc: 'API keys: comma list of key:scope[:survey|survey], scope ingest, read, sql, cases or admin; key may be sha256:<hex>.',
    format: 'comma list of key:scope[:survey|survey], key 16+ characters or sha256:<64 hex>',
    parse: (raw: string) => parseApiKeys(raw),
    fallback: () => '',
  },
  twilioAuthToken: {
    env: 'TWILIO_AUTH_TOKEN',
    doc: 'Twilio auth token: verifies X-Twilio-Signature. Unset: the SMS webhook is off.',
    ...string('secret'),
  },
  mailgunSigningKey: {
    env: 'MAILGUN_SIGNING_KEY',
    doc: 'Mailgun webhook signing key: verifies inbound email posts. Unset: the email webhook is off.',
    ...string('secret'),
  },
  linkSecret: {
    env: 'NPS_LINK_SECRET',
    doc: 'Secret that signs invitation tokens and score links. Unset: invitations are off.',
    format: 'secret, 16+ characters',
    parse: (raw: string) => {
      if (raw.length < 16) throw new Error('is shorter than 16 characters');
      return raw;
    },
  },
  recontactDays: {
    env: 'NPS_RECONTACT_DAYS',
    doc: 'Days after an invitation or an answer in which the same respondent is not invited again (409); 0 turns it off.',
    ...integer(0, 3650),
    fallback: () => '30',
  },
  rateLimitPerKey: {
    env: 'NPS_RATE_LIMIT_PER_KEY',
    doc: 'Ingest requests per second per API key (burst: twice that); 0 turns it off.',
    ...integer(0, 1_000_000),
    fallback: () => '100',
  },
  rateLimitPerIp: {
    env: 'NPS_RATE_LIMIT_PER_IP',
    doc: 'Requests per second per client address that fail authentication (key, signature, link; burst: twice that); 0 turns it off.',
    ...integer(0, 1_000_000),
    fallback: () => '50',
  },
  trustProxy: {
    env: 'NPS_TRUST_PROXY',
    doc: 'Reverse proxies in front of the service, whose X-Forwarded-For is believed for the client address.',
    ...integer(0, 10),
    fallback: () => '0',
  },
  corsOrigins: {
    env: 'NPS_CORS_ORIGINS',
    doc: 'Browser origins allowed to call the API (widgets posting responses); unset: none.',
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
    doc: 'Secret for the keyed HMAC that turns phone numbers and emails into respondent ids.',
    ...string('secret, 16+ characters'),
  },
  // The read-only ClickHouse-compatible SQL endpoint (src/sql).
  sqlPort: {
    env: 'NPS_SQL_PORT',
    doc: 'Port of the read-only ClickHouse-compatible SQL endpoint (embedded engine only). Unset: off.',
    ...port(),
  },
  sqlMaxExecutionTime: {
    env: 'NPS_SQL_MAX_SECONDS',
    doc: 'Seconds one SQL endpoint statement may run (max_execution_time); a client may ask for less.',
    ...integer(1, 86_400),
    fallback: () => '30',
  },
  sqlMaxResultRows: {
    env: 'NPS_SQL_MAX_ROWS',
    doc: 'Rows one SQL endpoint result may have (max_result_rows); 0: no limit.',
    ...integer(0, 1e15),
    fallback: () => '10000000',
  },
  sqlMaxResultBytes: {
    env: 'NPS_SQL_MAX_BYTES',
    doc: 'Uncompressed bytes one SQL endpoint result may have (max_result_bytes); 0: no limit.',
    ...integer(0, 1e15),
    fallback: () => String(1024 ** 3),
  },
  sqlMaxMemoryUsage: {
    env: 'NPS_SQL_MAX_MEMORY',
    doc: 'Bytes of memory one SQL endpoint statement may use (max_memory_usage); 0: no limit.',
    ...integer(0, 1e15),
    fallback: () => String(1024 ** 3),
  },
  sqlMaxThreads: {
    env: 'NPS_SQL_THREADS',
    doc: 'Engine threads one SQL endpoint statement may use (max_threads).',
    ...integer(1, 256),
    fallback: () => '1',
  },
  sqlMaxRunning: {
    env: 'NPS_SQL_RUNNING',
    doc: 'SQL endpoint statements running at once in the process; more wait their turn.',
    ...integer(1, 64),
    fallback: () => '2',
  },
  sqlMaxQueriesPerKey: {
    env: 'NPS_SQL_PER_KEY',
    doc: 'SQL endpoint statements one API key may have open at once; more are refused (code 202).',
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
      if ([...surveys].some((id) => !/^[A-Za-z0-9._-]{1,64}$/.test(id))) {
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
