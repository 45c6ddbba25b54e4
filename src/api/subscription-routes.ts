import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { RequestHandler } from 'express';
import type { Scope } from '../config/config.js';
import type { FieldProblem } from '../domain/response.js';
import { checkUrl, UrlRefused } from '../events/ssrf.js';
import type { Resolver, UrlPolicy } from '../events/ssrf.js';
import { newSecret } from '../events/subscriptions.js';
import type { Format, Subscription, SubscriptionStore } from '../events/subscriptions.js';
import type { EventType } from '../events/types.js';
import { allowSurvey } from '../http/auth.js';
import { jsonBody } from '../http/body.js';
import { HttpProblem, invalid, requireJson } from '../http/problem.js';
import { checkQuery } from '../http/query.js';
import {
  DeliveriesQuery,
  SUBSCRIPTION_ID_PATTERN,
  SubscriptionInputSchema,
} from '../http/schemas/subscriptions.js';
import { conforms, schemaProblems } from '../domain/schema.js';

const SUBSCRIPTION_ID = new RegExp(SUBSCRIPTION_ID_PATTERN);

export interface SubscriptionRoutesDeps {
  readonly requireScope: (scope: Scope) => RequestHandler;
  readonly store: SubscriptionStore;
  /** Tells the deliverers that subscriptions changed (WebhookQueue.subscriptionsChanged). */
  readonly changed: () => Promise<void>;
  readonly policy: UrlPolicy;
  /** Resolves subscription hosts for the address check; the system resolver by default. */
  readonly resolve?: Resolver;
  readonly now: () => number;
}

/** A subscription as listed: never its secret, which the 201 shows once. */
function view(s: Subscription) {
  return {
    subscriptionId: s.subscriptionId,
    url: s.url,
    events: s.events,
    surveyId: s.surveyId,
    format: s.format,
    createdAt: s.createdAt,
  };
}

async function checkSubscription(
  body: unknown,
  policy: UrlPolicy,
  resolve: Resolver | undefined,
): Promise<{ url: string; events: EventType[]; surveyId: string | null; format: Format }> {
  const problems = schemaProblems(SubscriptionInputSchema, body);
  const url =
    typeof body === 'object' && body !== null ? (body as { url?: unknown }).url : undefined;
  // The address check only for a URL the schema let through (it resolves the host).
  if (typeof url === 'string' && !problems.some((p) => p.field === 'url')) {
    try {
      await checkUrl(url, policy, resolve);
    } catch (error) {
      if (!(error instanceof UrlRefused)) throw error;
      problems.push({ field: 'url', message: error.message });
    }
  }
  if (problems.length > 0 || !conforms(SubscriptionInputSchema, body)) throw invalid(problems);
  return {
    url: body.url,
    events: body.events,
    surveyId: body.surveyId ?? null,
    format: body.format ?? 'standard',
  };
}

/** Webhook subscriptions (admin): create, list, delete, and the latest delivery attempts. */
export function subscriptionRouter(deps: SubscriptionRoutesDeps): Router {
  const router = Router();
  const admin = deps.requireScope('admin');
  const json = jsonBody('64kb');

  // A key restricted to surveys sees and manages only subscriptions to one of its surveys.
  const visible = (surveys: unknown, s: Subscription) =>
    !(surveys instanceof Set) || (s.surveyId !== null && surveys.has(s.surveyId));

  const find = async (id: unknown, surveys: unknown): Promise<Subscription> => {
    const s =
      typeof id === 'string' && SUBSCRIPTION_ID.test(id) ? await deps.store.get(id) : undefined;
    if (!s || !visible(surveys, s)) throw new HttpProblem(404, 'Not Found', 'No such subscription');
    return s;
  };

  router.post('/v1/subscriptions', admin, requireJson, json, async (req, res) => {
    const input = await checkSubscription(req.body, deps.policy, deps.resolve);
    if (input.surveyId !== null) allowSurvey(res, input.surveyId);
    else if (res.locals.surveys) {
      throw new HttpProblem(403, 'Forbidden', 'A key restricted to surveys must name a surveyId');
    }
    const subscription: Subscription = {
      subscriptionId: `sub_${randomUUID().replaceAll('-', '')}`,
      ...input,
      secret: newSecret(),
      createdAt: new Date(deps.now()).toISOString(),
    };
    await deps.store.create(subscription);
    await deps.changed();
    res
      .status(201)
      .location(`/v1/subscriptions/${subscription.subscriptionId}`)
      .json({ ...view(subscription), secret: subscription.secret });
  });

  router.get('/v1/subscriptions', admin, async (_req, res) => {
    const all = await deps.store.list();
    res.json({ subscriptions: all.filter((s) => visible(res.locals.surveys, s)).map(view) });
  });

  router.delete('/v1/subscriptions/:id', admin, async (req, res) => {
    const s = await find(req.params.id, res.locals.surveys);
    await deps.store.delete(s.subscriptionId);
    await deps.changed();
    res.status(204).end();
  });

  router.get('/v1/subscriptions/:id/deliveries', admin, async (req, res) => {
    const problems: FieldProblem[] = [];
    const limit = checkQuery(req, DeliveriesQuery, problems).limit ?? 100;
    if (problems.length > 0) throw invalid(problems);
    const s = await find(req.params.id, res.locals.surveys);
    const attempts = await deps.store.attempts(s.subscriptionId, limit);
    res.json({
      subscriptionId: s.subscriptionId,
      deliveries: attempts.map((a) => ({
        eventId: a.eventId,
        webhookId: a.webhookId,
        eventType: a.eventType,
        attempt: a.attempt,
        status: a.status,
        outcome: a.outcome,
        latencyMs: a.latencyMs,
        error: a.error,
        attemptedAt: new Date(a.attemptedAt).toISOString(),
      })),
    });
  });

  return router;
}
