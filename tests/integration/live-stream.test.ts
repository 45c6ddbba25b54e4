import { describe, expect, it, onTestFinished } from 'vitest';
import { INGEST_KEY, READ_KEY, api, startPipeline, uniqueName } from '../support/pipeline.js';

/** Reads Server-Sent Events from a fetch body until `until` is satisfied. */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  until: (events: string[]) => boolean,
): Promise<string[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const events: string[] = [];
  while (!until(events)) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      events.push(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
    }
  }
  reader.releaseLock();
  return events;
}

describe('live stream (SSE)', () => {
  it('sends the live score at once and again when a response changes it', async () => {
    const { url } = await startPipeline();
    const surveyId = uniqueName('sse');
    const controller = new AbortController();
    onTestFinished(() => {
      controller.abort();
    });
    const res = await fetch(`${url}/v1/nps/stream?surveyId=${surveyId}&window=1h`, {
      headers: { authorization: `Bearer ${READ_KEY}` },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const body = res.body;
    if (!body) throw new Error('no body');

    const nps = (events: string[]) =>
      events
        .filter((e) => e.startsWith('event: nps'))
        .map(
          (e) =>
            JSON.parse(e.slice(e.indexOf('data: ') + 6)) as {
              responses: number;
              nps: number | null;
              window: string;
            },
        );
    const first = nps(await readEvents(body, (e) => nps(e).length >= 1));
    expect(first[0]).toMatchObject({ surveyId, window: '1h', responses: 0, nps: null });

    await api(url, '/v1/responses', { key: INGEST_KEY, body: { surveyId, score: 10 } });
    const next = nps(await readEvents(body, (e) => nps(e).some((x) => x.responses === 1)));
    expect(next.at(-1)).toMatchObject({ responses: 1, nps: 100 });
  });

  it('needs the read scope and a valid window', async () => {
    const { url } = await startPipeline(['api']);
    expect((await api(url, '/v1/nps/stream?surveyId=a', { key: INGEST_KEY })).status).toBe(403);
    expect((await api(url, '/v1/nps/stream?surveyId=a&window=2d', { key: READ_KEY })).status).toBe(
      400,
    );
  });
});
