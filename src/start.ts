import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import type { LogEntry } from 'kafkajs';
import type { Redis } from 'ioredis';
import type { ClickHouseClient } from '@clickhouse/client';
import { createApp } from './api/app.js';
import { servedRoutes } from './http/served-routes.js';
import type { ServedRoute } from './http/served-routes.js';
import type { Eraser } from './use-cases/erase-respondent.js';
import { createMetrics } from './metrics.js';
import { LiveStream } from './api/live-stream.js';
import type { Config } from './config/config.js';
import type { Endpoints } from './config/endpoints.js';
import { describeError } from './errors.js';
import { Publisher } from './ingest/publisher.js';
import { twilioSmsRouter } from './ingest/twilio-sms.js';
import { mailgunRouter } from './ingest/mailgun.js';
import { webRouter } from './ingest/web.js';
import { LINK_LIFETIME_MS, linksRouter } from './ingest/links.js';
import { invitationsRouter } from './ingest/invitations.js';
import { InvitationPublisher } from './ingest/invitation-publisher.js';
import { InvitationMarks } from './storage/invitation-marks.js';
import { InvitationStore } from './storage/invitations.js';
import { startInvitationSink } from './stream/invitation-sink.js';
import { funnelRouter } from './api/funnel-routes.js';
import { authorizer } from './http/auth.js';
import { resolveAccess, sessionSecret } from './dashboard/first-run.js';
import { dashboardRouter } from './dashboard/router.js';
import { Sessions } from './dashboard/session.js';
import { RateLimiter } from './http/rate-limit.js';
import type { Router } from 'express';
import { ResponseCodec } from './kafka/response-codec.js';
import { ensureTopics } from './kafka/topics.js';
import { createClickHouse } from './storage/clickhouse.js';
import { History } from './storage/history.js';
import { ThemeStore } from './storage/themes.js';
import { ResponseStore } from './storage/responses.js';
import { surveyRouter } from './api/survey-routes.js';
import { annotationRouter } from './api/annotation-routes.js';
import { AnnotationStore } from './storage/annotations.js';
import { themesRouter } from './api/themes-routes.js';
import { LiveWindows } from './storage/live-windows.js';
import { ShiftDetectors } from './storage/shift-detectors.js';
import { ShiftStore } from './storage/shifts.js';
import { shiftRouter } from './api/shift-routes.js';
import { caseRouter } from './api/case-routes.js';
import { createCaseMetrics } from './api/case-metrics.js';
import { CaseStore } from './storage/cases.js';
import type { EventSink } from './events/types.js';
import { DEFAULT_SHIFT_OPTIONS } from './domain/shift.js';
import { migrate } from './storage/migrations.js';
import { createRedis } from './storage/redis.js';
import { startProcessor } from './stream/processor.js';
import { createTagger } from './themes/tagger.js';
import type { Tagger } from './themes/tagger.js';
import { defaultTaxonomy, loadTaxonomy } from './themes/taxonomy.js';
import type { ProcessorHandle } from './stream/processor.js';
import { startSqlEndpoint } from './sql/endpoint.js';
import type { SqlServerHandle } from './sql/server.js';
import { KafkaEventSink } from './events/kafka-event-sink.js';
import { startDeliverer } from './events/deliverer.js';
import type { DelivererHandle } from './events/deliverer.js';
import { SubscriptionStore } from './events/subscriptions.js';
import { WebhookQueue } from './events/webhook-queue.js';
import { subscriptionRouter } from './api/subscription-routes.js';

/** How long a closing HTTP server waits for requests in flight before it cuts connections. */
const CLOSE_GRACE_MS = 5000;

export const ROLES = ['ingest', 'process', 'api', 'deliver'] as const;
export type Role = (typeof ROLES)[number];

export interface StartOptions {
  readonly config: Config;
  readonly endpoints: Endpoints;
  readonly roles: readonly Role[];
  /** HTTP port; 0 picks a free one. Defaults to config.port. */
  readonly port?: number;
  /**
   * Port of the read-only SQL endpoint (with the api role, embedded engine only); 0 picks a free
   * one. Defaults to config.sqlPort; off when neither is set.
   */
  readonly sqlPort?: number;
  readonly log?: (message: string) => void;
  /** Tags comments in the processor. Default: a tagger of the configured taxonomy (NPS_TAXONOMY). */
  readonly tagger?: Tagger;
  /**
   * Where the api role publishes `case.updated`. Default: none kept (the events topic's sink is
   * wired here when it exists); tests pass one that collects them.
   */
  readonly events?: EventSink;
  /** Called when a role stops for good (the processor's consumer crashed beyond restarting). */
  readonly onFatal?: (error: unknown) => void;
}

/** The URL to reach the server from this machine: loopback when it listens on every interface. */
function localUrl(address: string, port: number): string {
  if (address === '0.0.0.0' || address === '::') return `http://127.0.0.1:${port}`;
  return address.includes(':') ? `http://[${address}]:${port}` : `http://${address}:${port}`;
}

export interface Running {
  /** Base URL of the HTTP server. */
  readonly url: string;
  /** Base URL of the SQL endpoint, when it runs. */
  readonly sqlUrl?: string;
  /** The methods and paths the HTTP server answers (see servedRoutes). */
  readonly routes: readonly ServedRoute[];
  close(): Promise<void>;
}

/**
 * Starts the roles asked for in this process and returns a handle whose close() shuts down in
 * order: stop accepting HTTP, stop consuming, flush the producer, close ClickHouse, quit Redis.
 */
export async function start(options: StartOptions): Promise<Running> {
  const { config, endpoints, roles } = options;
  const log =
    options.log ??
    ((m: string) => {
      console.log(m);
    });
  const has = (role: Role) => roles.includes(role);
  // Dashboard and first run (src/dashboard): NPS_API_KEYS, or on loopback a local admin key made
  // once; anywhere else no keys is refused here, before anything is connected.
  const access = resolveAccess(config);
  const sessions = has('api')
    ? new Sessions(() => sessionSecret(config), access.apiKeys, config.sessionHours * 3_600_000)
    : undefined;
  const metrics = createMetrics();
  const kafkaOptions = {
    brokers: [...endpoints.kafkaBrokers],
    logLevel: logLevel.ERROR,
    logCreator: () => (entry: LogEntry) => {
      // kafkajs entries carry broker addresses and error texts, never message contents.
      log(`kafkajs ${entry.namespace}: ${entry.log.message}`);
    },
  };
  // The processor and admin work keep kafkajs's patient retries; ingest answers an HTTP request
  // and must give up within seconds, so it gets a client of its own that fails fast.
  const kafka = new Kafka({ ...kafkaOptions, clientId: `nps-${roles.join('-')}` });
  const ingestKafka = new Kafka({
    ...kafkaOptions,
    clientId: 'nps-ingest',
    connectionTimeout: 1000,
    requestTimeout: 5000,
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1000 },
  });
  const codec = new ResponseCodec(endpoints.schemaRegistryUrl, config.topic);
  const closers: { name: string; close: () => Promise<unknown> }[] = [];

  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, {
      topic: config.topic,
      deadLetterTopic: config.deadLetterTopic,
      partitions: config.topicPartitions,
      invitationTopic: config.invitationTopic,
      eventsTopic: config.eventsTopic,
      eventsDeadLetterTopic: config.eventsDeadLetterTopic,
    });
  } finally {
    await admin.disconnect();
  }

  let clickhouse: ClickHouseClient | undefined;
  let history: History | undefined;
  if (has('process') || has('api') || has('deliver')) {
    clickhouse = createClickHouse(endpoints.clickhouse);
    const applied = await migrate(clickhouse, config.clickhouseDatabase);
    if (applied.length > 0) log(`ClickHouse migrations applied: ${applied.join(', ')}`);
    history = new History(clickhouse, config.clickhouseDatabase);
  }
  const cases =
    clickhouse &&
    new CaseStore(clickhouse, config.clickhouseDatabase, {
      rule: config.caseRule,
      slaHours: config.caseSlaHours,
    });

  let publisher: Publisher | undefined;
  if (has('ingest')) {
    await codec.register();
    publisher = new Publisher(ingestKafka, codec, config.topic);
    await publisher.connect();
  }

  // Invitations (ingest with NPS_LINK_SECRET): facts to Kafka, recontact marks in Redis.
  let invitationPublisher: InvitationPublisher | undefined;
  let ingestRedis: Redis | undefined;
  const marksOptions = { prefix: config.redisPrefix, recontactDays: config.recontactDays };
  if (publisher && config.linkSecret !== undefined) {
    ingestRedis = createRedis(endpoints.redisUrl, 'producer', log);
    await ingestRedis.connect();
    invitationPublisher = new InvitationPublisher(ingestKafka, config.invitationTopic);
    await invitationPublisher.connect();
  }

  const liveOptions = {
    prefix: config.redisPrefix,
    dedupeDays: config.dedupeDays,
    erasureSecret: config.pseudonymKey,
    segmentKeys: config.segmentKeys,
    segmentMaxValues: config.segmentMaxValues,
  };
  let readRedis: Redis | undefined;
  let live: LiveWindows | undefined;
  let detectors: ShiftDetectors | undefined;
  if (has('api')) {
    readRedis = createRedis(endpoints.redisUrl, 'producer', log);
    await readRedis.connect();
    live = new LiveWindows(readRedis, liveOptions);
    detectors = new ShiftDetectors(readRedis, { prefix: config.redisPrefix });
  }

  // Read once at start, so a bad taxonomy file stops the process with its error, not a batch.
  const taxonomy =
    config.taxonomy === undefined ? defaultTaxonomy() : loadTaxonomy(config.taxonomy);
  const tagger = options.tagger ?? createTagger(taxonomy);
  let processor: ProcessorHandle | undefined;
  let processRedis: Redis | undefined;
  // Processors publish what they count; the API publishes case changes (case.updated).
  const events =
    has('process') || has('api') ? new KafkaEventSink(kafka, config.eventsTopic) : undefined;
  if (has('process') && history && clickhouse && events) {
    processRedis = createRedis(endpoints.redisUrl, 'consumer', log);
    await processRedis.connect();
    processor = await startProcessor({
      kafka,
      codec,
      live: new LiveWindows(processRedis, liveOptions),
      history,
      metrics,
      tagger,
      shifts: {
        detectors: new ShiftDetectors(processRedis, { prefix: config.redisPrefix }),
        store: new ShiftStore(clickhouse, config.clickhouseDatabase),
      },
      shiftOptions: { ...DEFAULT_SHIFT_OPTIONS, warmUp: config.shiftWarmUp },
      recontact: new InvitationMarks(processRedis, marksOptions),
      ...(cases && { cases }),
      events,
      caseRule: config.caseRule,
      topic: config.topic,
      deadLetterTopic: config.deadLetterTopic,
      groupId: config.consumerGroup,
      log,
      onCrash: (error) => {
        log(`processor stopped: ${describeError(error)}`);
        options.onFatal?.(error);
      },
    });
  }

  let invitationSink: { close(): Promise<void> } | undefined;
  if (has('process') && clickhouse && processRedis) {
    invitationSink = await startInvitationSink({
      kafka,
      store: new InvitationStore(clickhouse, config.clickhouseDatabase),
      live: new LiveWindows(processRedis, liveOptions),
      topic: config.invitationTopic,
      groupId: config.consumerGroup,
      log,
      onCrash: (error) => {
        log(`invitation sink stopped: ${describeError(error)}`);
        options.onFatal?.(error);
      },
    });
  }

  // Outbound webhooks (src/events): subscriptions in ClickHouse, the retry schedule in Redis.
  const webhookPolicy = {
    allowHttp: config.webhookAllowHttp === 1,
    allowPrivate: config.webhookAllowPrivate === 1,
  };
  const subscriptions =
    clickhouse && (has('api') || has('deliver'))
      ? new SubscriptionStore(clickhouse, config.clickhouseDatabase, sessionSecret(config))
      : undefined;
  let deliverer: DelivererHandle | undefined;
  let deliverRedis: Redis | undefined;
  if (has('deliver') && subscriptions) {
    deliverRedis = createRedis(endpoints.redisUrl, 'consumer', log);
    await deliverRedis.connect();
    const marks = new LiveWindows(deliverRedis, liveOptions);
    deliverer = await startDeliverer({
      kafka,
      queue: new WebhookQueue(deliverRedis, config.redisPrefix),
      subscriptions,
      erasedUpTo: (ids) => marks.erasedUpTo(ids),
      topic: config.eventsTopic,
      deadLetterTopic: config.eventsDeadLetterTopic,
      groupId: `${config.consumerGroup}-deliver`,
      sender: {
        policy: webhookPolicy,
        timeoutMs: config.webhookTimeoutMs,
        publicBaseUrl: config.publicBaseUrl,
      },
      retryMs: config.webhookRetryHours * 3_600_000,
      backoffMs: config.webhookBackoffMs,
      perSubscription: config.webhookConcurrency,
      registry: metrics.registry,
      log,
      onCrash: (error) => {
        log(`deliverer stopped: ${describeError(error)}`);
        options.onFatal?.(error);
      },
    });
  }
  // The api role's view of the retry schedule: erasure, and telling deliverers of changes.
  const apiQueue =
    readRedis && subscriptions ? new WebhookQueue(readRedis, config.redisPrefix) : undefined;
  const erasers: Eraser[] = [];
  if (apiQueue && subscriptions) {
    erasers.push(
      { name: 'queuedEventsRemoved', erase: (respondentId) => apiQueue.erase(respondentId) },
      { name: 'deliveryAttemptsDeleted', erase: (rid) => subscriptions.eraseAttempts(rid) },
    );
  }

  const requireScope = authorizer(
    access.apiKeys,
    config.rateLimitPerKey > 0
      ? new RateLimiter(config.rateLimitPerKey, 2 * config.rateLimitPerKey)
      : undefined,
    sessions && ((req) => sessions.keyOf(req)?.key),
  );
  const adapters: Router[] = [];
  if (publisher) {
    adapters.push(
      webRouter({
        publisher,
        requireScope,
        metrics,
        ...(config.pseudonymKey !== undefined && { pseudonymKey: config.pseudonymKey }),
        now: Date.now,
      }),
    );
  }
  if (publisher && config.twilioAuthToken !== undefined) {
    adapters.push(
      twilioSmsRouter({
        authToken: config.twilioAuthToken,
        publicBaseUrl: config.publicBaseUrl,
        pseudonymKey: config.pseudonymKey,
        publisher,
        metrics,
        now: Date.now,
      }),
    );
  }
  if (publisher && config.linkSecret !== undefined && invitationPublisher && ingestRedis) {
    const marks = new InvitationMarks(ingestRedis, marksOptions);
    const facts = invitationPublisher;
    adapters.push(
      invitationsRouter({
        secret: config.linkSecret,
        publicBaseUrl: config.publicBaseUrl,
        pseudonymKey: config.pseudonymKey,
        marks,
        publisher: facts,
        metrics,
        requireScope,
        now: Date.now,
      }),
      linksRouter({
        secret: config.linkSecret,
        publisher,
        metrics,
        now: Date.now,
        log,
        // The first open of a link becomes its "opened" fact; a later open publishes nothing.
        opened: async (invitation) => {
          const at = Date.now();
          if (!(await marks.firstOpen(invitation.invitationId, invitation.expiresAt, at))) return;
          try {
            await facts.publish([
              {
                stage: 'opened',
                invitationId: invitation.invitationId,
                surveyId: invitation.surveyId,
                channel: invitation.channel,
                respondentId: invitation.respondentId,
                segment: invitation.segment ?? {},
                createdAt: invitation.expiresAt - LINK_LIFETIME_MS,
                expiresAt: invitation.expiresAt,
                at,
              },
            ]);
          } catch (error) {
            await marks.forgetOpen(invitation.invitationId);
            throw error;
          }
        },
      }),
    );
  }
  if (publisher && config.mailgunSigningKey !== undefined) {
    adapters.push(
      mailgunRouter({
        signingKey: config.mailgunSigningKey,
        pseudonymKey: config.pseudonymKey,
        publisher,
        metrics,
        now: Date.now,
      }),
    );
  }
  const stream = live
    ? new LiveStream(live, {
        minResponses: config.minResponses,
        ...(detectors && { lastShift: (s, c) => detectors.lastShift(s, c) }),
      })
    : undefined;
  const resources: Router[] = [];
  const annotations = clickhouse && new AnnotationStore(clickhouse, config.clickhouseDatabase);
  if (has('api') && clickhouse && annotations) {
    const responseStore = new ResponseStore(clickhouse, config.clickhouseDatabase);
    resources.push(
      themesRouter({
        requireScope,
        store: new ThemeStore(clickhouse, config.clickhouseDatabase),
        taxonomy,
        minResponses: config.minResponses,
        now: Date.now,
      }),
      surveyRouter({
        requireScope,
        store: responseStore,
        minResponses: config.minResponses,
        segmentKeys: config.segmentKeys,
        now: Date.now,
      }),
      annotationRouter({
        requireScope,
        annotations,
        responses: responseStore,
        themes: new ThemeStore(clickhouse, config.clickhouseDatabase),
        minResponses: config.minResponses,
        now: Date.now,
      }),
      shiftRouter({
        requireScope,
        store: new ShiftStore(clickhouse, config.clickhouseDatabase),
        now: Date.now,
      }),
      funnelRouter({
        requireScope,
        store: new InvitationStore(clickhouse, config.clickhouseDatabase),
        minResponses: config.minResponses,
        now: Date.now,
      }),
    );
    if (cases)
      resources.push(
        caseRouter({
          requireScope,
          store: cases,
          events: options.events ?? events ?? { publish: () => Promise.resolve() },
          metrics: createCaseMetrics(metrics.registry, cases, Date.now),
          now: Date.now,
        }),
      );
    if (subscriptions && apiQueue) {
      resources.push(
        subscriptionRouter({
          changed: () => apiQueue.subscriptionsChanged(),
          requireScope,
          store: subscriptions,
          policy: webhookPolicy,
          now: Date.now,
        }),
      );
    }
  }
  // Erasure covers invitations, their funnel entries and recontact marks.
  let invitationErasers: Eraser[] | undefined;
  if (clickhouse && readRedis) {
    const store = new InvitationStore(clickhouse, config.clickhouseDatabase);
    const marks = new InvitationMarks(readRedis, marksOptions);
    invitationErasers = [
      { name: 'invitationsDeleted', erase: (id, cut) => store.erase(id, cut) },
      { name: 'recontactMarksDeleted', erase: (id) => marks.erase(id) },
    ];
  }
  const app = createApp({
    adapters,
    ...(sessions && {
      dashboard: dashboardRouter({
        sessions,
        apiKeys: access.apiKeys,
        publicBaseUrl: config.publicBaseUrl,
        segmentKeys: config.segmentKeys,
      }),
    }),
    resources,
    ...(annotations && { annotations }),
    minResponses: config.minResponses,
    segmentKeys: config.segmentKeys,
    ...(stream && { stream }),
    requireScope,
    log,
    trustProxy: config.trustProxy,
    ...(config.rateLimitPerIp > 0 && {
      ipLimit: new RateLimiter(config.rateLimitPerIp, 2 * config.rateLimitPerIp),
    }),
    publicBaseUrl: config.publicBaseUrl,
    corsOrigins: config.corsOrigins,
    ...(config.pseudonymKey !== undefined && { pseudonymKey: config.pseudonymKey }),
    metrics,
    ...(live && { live }),
    ...(history && { history }),
    erasers: [
      ...erasers,
      ...(invitationErasers ?? []),
      ...(cases
        ? [{ name: 'casesDeleted', erase: (id: string, cut: number) => cases.erase(id, cut) }]
        : []),
    ],
    readiness: async () => {
      const down: string[] = [];
      const checks: [string, () => Promise<unknown>][] = [
        [
          'kafka',
          async () => {
            const a = kafka.admin();
            await a.connect();
            await a.disconnect();
          },
        ],
      ];
      const redis = readRedis ?? processRedis ?? deliverRedis;
      if (redis) checks.push(['redis', () => redis.ping()]);
      if (clickhouse)
        checks.push([
          'clickhouse',
          () => clickhouse.query({ query: 'SELECT 1' }).then((r) => r.text()),
        ]);
      await Promise.all(
        checks.map(async ([name, check]) => {
          try {
            await Promise.race([
              check(),
              new Promise((_, reject) => setTimeout(reject, 2000, new Error('timeout'))),
            ]);
          } catch {
            down.push(name);
          }
        }),
      );
      // ClickHouse may answer SELECT 1 and still refuse the processor's writes.
      for (const sink of processor?.down() ?? []) if (!down.includes(sink)) down.push(sink);
      return down.sort();
    },
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(options.port ?? config.port, config.host, () => {
      resolve(s);
    });
  });
  server.keepAliveTimeout = 5000;
  const { port, address } = server.address() as AddressInfo;
  const url = localUrl(address, port);
  if (sessions) {
    const admin = access.localAdmin;
    log(
      !admin
        ? `Dashboard: ${url}/ (sign in with an NPS_API_KEYS key that has the read scope)`
        : admin.created
          ? `Dashboard: ${url}/\nFirst run: made a local admin key, kept in ${admin.file}:\n  ${admin.key}\n` +
            `Open this link to sign in (shown only now; the key stays in that file):\n  ${url}/#key=${admin.key}`
          : `Dashboard: ${url}/ (sign in with the local admin key kept in ${admin.file})`,
    );
  }

  let sql: SqlServerHandle | undefined;
  const sqlPort = options.sqlPort ?? config.sqlPort;
  if (has('api') && sqlPort !== undefined) {
    if (endpoints.clickhouse.kind === 'embedded') {
      try {
        sql = await startSqlEndpoint({
          config,
          apiKeys: access.apiKeys,
          path: endpoints.clickhouse.path,
          port: sqlPort,
          log,
        });
      } catch (error) {
        await new Promise((resolve) => server.close(resolve));
        throw error;
      }
    } else {
      log('SQL endpoint off: CLICKHOUSE_URL is a ClickHouse server; connect to it directly');
    }
  }

  closers.push(
    {
      name: 'http',
      close: () =>
        new Promise((resolve) => {
          // Stop accepting first, then end the open SSE streams, which would hold close() forever.
          server.close(resolve);
          stream?.close();
          server.closeIdleConnections();
          // Requests in flight get a few seconds to be answered; then whatever a client still
          // holds open is cut, so that no client can hold the shutdown.
          setTimeout(() => {
            server.closeAllConnections();
          }, CLOSE_GRACE_MS).unref();
        }),
    },
    // Running SQL statements are cancelled before the engine they run on is closed.
    { name: 'sql', close: async () => sql?.close() },
    // Each consumer waits out its fetch in flight as it leaves: all of them at once, not in turn.
    {
      name: 'consumers',
      close: async () =>
        Promise.all([processor?.close(), invitationSink?.close(), deliverer?.close()]),
    },
    { name: 'events', close: async () => events?.close() },
    { name: 'producer', close: async () => publisher?.close() },
    { name: 'invitation producer', close: async () => invitationPublisher?.close() },
    { name: 'clickhouse', close: async () => clickhouse?.close() },
    {
      name: 'redis',
      close: async () =>
        Promise.all([
          readRedis?.quit(),
          processRedis?.quit(),
          ingestRedis?.quit(),
          deliverRedis?.quit(),
        ]),
    },
  );

  let closing: Promise<void> | undefined;
  return {
    url,
    ...(sql && { sqlUrl: sql.url }),
    routes: servedRoutes(app),
    close: () =>
      (closing ??= (async () => {
        for (const step of closers) {
          try {
            await step.close();
          } catch (error) {
            log(`shutdown: ${step.name} failed: ${describeError(error)}`);
          }
        }
      })()),
  };
}
