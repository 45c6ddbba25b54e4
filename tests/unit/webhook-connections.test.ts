import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Connections, send } from '../../src/events/sender.js';
import type { SenderOptions } from '../../src/events/sender.js';
import type { Subscription } from '../../src/events/subscriptions.js';
import type { NpsEvent } from '../../src/events/types.js';

const loopback = { allowHttp: true, allowPrivate: true };

/** A receiver that answers 204 and counts the connections it was given and those still open. */
async function receiver() {
  let opened = 0;
  let open = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  server.on('connection', (socket) => {
    opened++;
    open++;
    socket.on('close', () => open--);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return {
    url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/hook`,
    opened: () => opened,
    open: () => open,
  };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

function subscription(url: string, subscriptionId = 'sub_a'): Subscription {
  return {
    subscriptionId,
    url,
    events: ['response.detractor'],
    surveyId: null,
    format: 'standard',
    secret: `whsec_${Buffer.alloc(24, 7).toString('base64')}`,
    createdAt: new Date(0).toISOString(),
  };
}

function event(i: number): NpsEvent {
  return {
    id: `evt_${String(i)}`,
    type: 'response.detractor',
    timestamp: new Date(0).toISOString(),
    surveyId: 's',
    respondentId: null,
    data: { score: 3 },
  };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('webhook connections', () => {
  it('20 attempts one after another use one kept-alive connection; without a pool, 20', async () => {
    const hook = await receiver();
    const connections = new Connections(4);
    const options: SenderOptions = {
      policy: loopback,
      timeoutMs: 2000,
      publicBaseUrl: 'https://nps.example',
      connections,
    };
    for (let i = 0; i < 20; i++) {
      expect(await send(event(i), subscription(hook.url), options)).toMatchObject({ ok: true });
    }
    expect(hook.opened()).toBe(1);
    connections.close();

    const fresh = await receiver();
    const unpooled: SenderOptions = { ...options, connections: undefined };
    for (let i = 0; i < 20; i++) {
      expect(await send(event(i), subscription(fresh.url), unpooled)).toMatchObject({ ok: true });
    }
    expect(fresh.opened()).toBe(20);
  });

  it('concurrent attempts open no more connections than the pool allows, and a deleted subscription closes its own', async () => {
    const hook = await receiver();
    const connections = new Connections(3);
    const options: SenderOptions = {
      policy: loopback,
      timeoutMs: 2000,
      publicBaseUrl: 'https://nps.example',
      connections,
    };
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        send(event(i), subscription(hook.url, i % 2 === 0 ? 'sub_even' : 'sub_odd'), options),
      ),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    // Two subscriptions, three connections each at most.
    expect(hook.opened()).toBeLessThanOrEqual(6);
    const before = hook.open();
    expect(before).toBeGreaterThanOrEqual(2);

    connections.retain(new Set(['sub_even']));
    await until(() => hook.open() < before);
    expect(hook.open()).toBeGreaterThan(0);
    expect(hook.open()).toBeLessThan(before);
    connections.close();
    await until(() => hook.open() === 0);
    expect(hook.open()).toBe(0);
  });

  it('a pooled connection is still checked when it is opened: a private address is refused', async () => {
    const connections = new Connections(2);
    const result = await send(event(1), subscription('http://inside.example/hook'), {
      policy: { allowHttp: true, allowPrivate: false },
      timeoutMs: 2000,
      publicBaseUrl: 'https://nps.example',
      // Public at the URL check, private when the socket looks the name up.
      resolve: (() => {
        let lookups = 0;
        return () =>
          Promise.resolve([{ address: ++lookups <= 1 ? '93.184.215.14' : '10.0.0.1', family: 4 }]);
      })(),
      connections,
    });
    connections.close();
    expect(result).toMatchObject({ ok: false, status: 0 });
    expect(result.error).toMatch(/private address \(10\.0\.0\.1\)/);
  });
});
