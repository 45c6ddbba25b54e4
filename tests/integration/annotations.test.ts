import { describe, expect, it } from 'vitest';
import {
  ADMIN_KEY,
  INGEST_KEY,
  READ_KEY,
  api,
  drained,
  startPipeline,
  uniqueName,
} from '../support/pipeline.js';

const DAY = 86_400_000;

type Tally = { responses: number; promoters: number; passives: number; detractors: number };

function tally(scores: readonly number[]): Tally {
  return {
    responses: scores.length,
    promoters: scores.filter((s) => s >= 9).length,
    passives: scores.filter((s) => s === 7 || s === 8).length,
    detractors: scores.filter((s) => s <= 6).length,
  };
}

function nps(t: Tally): number {
  return (100 * (t.promoters - t.detractors)) / t.responses;
}

describe('annotations', () => {
  it('records what changed when, shows it beside the history, and compares the days before with the days after', async () => {
    const { url, config } = await startPipeline();
    const surveyId = uniqueName('annotated');
    const change = Date.now() - 10 * DAY;
    // Before the new courier: delivery complaints by SMS and web. After: delivery praised.
    const before = Array.from({ length: 60 }, (_, i) => ({
      score: [2, 9, 3, 10, 5, 8][i % 6] ?? 0,
      comment: i % 2 === 0 ? 'Pakken kom alt for sent' : null,
      channel: i % 3 === 0 ? 'sms' : 'web',
      at: change - 5 * DAY + i * 60_000,
    }));
    const after = Array.from({ length: 60 }, (_, i) => ({
      score: [10, 9, 7, 10, 4, 9][i % 6] ?? 0,
      comment: i % 2 === 0 ? 'Hurtig levering, tak' : null,
      channel: i % 3 === 0 ? 'sms' : 'web',
      at: change + 2 * DAY + i * 60_000,
    }));
    const body = [...before, ...after].map((r, i) => ({
      surveyId,
      responseId: `a-${i}`,
      score: r.score,
      channel: r.channel,
      respondedAt: new Date(r.at).toISOString(),
      ...(r.comment !== null && { comment: r.comment }),
    }));
    expect((await api(url, '/v1/responses', { key: INGEST_KEY, body })).status).toBe(202);
    await drained(config);

    const annotation = { surveyId, at: new Date(change).toISOString(), label: 'New courier' };
    expect((await api(url, '/v1/annotations', { key: READ_KEY, body: annotation })).status).toBe(
      403,
    );
    const bad = await api(url, '/v1/annotations', {
      key: ADMIN_KEY,
      body: { surveyId: 'has space', at: 'tomorrow', label: '', extra: 1 },
    });
    expect(bad.status).toBe(400);
    for (const field of ['surveyId', 'at', 'label', 'extra'])
      expect(String(bad.body.detail)).toContain(field);

    const created = await api(url, '/v1/annotations', {
      key: ADMIN_KEY,
      body: { ...annotation, annotationId: 'courier-2026' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ annotationId: 'courier-2026', label: 'New courier' });
    expect(String(created.body.createdBy)).toMatch(/^key:[0-9a-f]{12}$/);
    // A client retry of the same id stores nothing new; another content under it is refused.
    const retried = await api(url, '/v1/annotations', {
      key: ADMIN_KEY,
      body: { ...annotation, annotationId: 'courier-2026' },
    });
    expect(retried.status).toBe(200);
    expect(retried.body).toEqual(created.body);
    const clash = await api(url, '/v1/annotations', {
      key: ADMIN_KEY,
      body: { ...annotation, label: 'Other', annotationId: 'courier-2026' },
    });
    expect(clash.status).toBe(409);

    const listed = await api(url, `/v1/annotations?surveyId=${surveyId}`, { key: READ_KEY });
    expect(listed.body.annotations).toEqual([created.body]);
    const from = new Date(change - 20 * DAY).toISOString();
    const history = await api(url, `/v1/nps/history?surveyId=${surveyId}&from=${from}`, {
      key: READ_KEY,
    });
    expect(history.body.annotations).toEqual([
      { annotationId: 'courier-2026', at: annotation.at, label: 'New courier' },
    ]);

    const impact = await api(url, '/v1/nps/impact?annotationId=courier-2026&days=14', {
      key: READ_KEY,
    });
    expect(impact.status).toBe(200);
    const a = tally(before.map((r) => r.score));
    const b = tally(after.map((r) => r.score));
    expect(impact.body.overall).toMatchObject({ a, b, significant: true });
    const difference = (impact.body.overall as { difference: number }).difference;
    expect(Math.abs(difference - (nps(b) - nps(a)))).toBeLessThanOrEqual(0.05);
    const sms = (impact.body.channels as Record<string, { a: Tally; b: Tally }>).sms;
    expect(sms?.a).toMatchObject(
      tally(before.filter((r) => r.channel === 'sms').map((r) => r.score)),
    );
    expect(sms?.b).toMatchObject(
      tally(after.filter((r) => r.channel === 'sms').map((r) => r.score)),
    );
    const delivery = (impact.body.themes as { theme: string; a: Tally; b: Tally }[]).find(
      (t) => t.theme === 'delivery',
    );
    expect(delivery?.a).toMatchObject(
      tally(before.filter((r) => r.comment !== null).map((r) => r.score)),
    );
    expect(delivery?.b).toMatchObject(
      tally(after.filter((r) => r.comment !== null).map((r) => r.score)),
    );

    // Deleted: gone from the list and the history, and nothing to compare around.
    const deleted = await api(url, '/v1/annotations/courier-2026', {
      method: 'DELETE',
      key: ADMIN_KEY,
    });
    expect(deleted.status).toBe(204);
    expect(
      (await api(url, `/v1/annotations?surveyId=${surveyId}`, { key: READ_KEY })).body.annotations,
    ).toEqual([]);
    expect(
      (await api(url, '/v1/nps/impact?annotationId=courier-2026', { key: READ_KEY })).status,
    ).toBe(404);
    expect(
      (await api(url, '/v1/annotations/courier-2026', { method: 'DELETE', key: ADMIN_KEY })).status,
    ).toBe(404);
  });
});
