import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { send } from '../../src/events/sender.js';
import { checkUrl, classifyAddress, UrlRefused } from '../../src/events/ssrf.js';
import type { Resolver } from '../../src/events/ssrf.js';
import type { Subscription } from '../../src/events/subscriptions.js';
import type { NpsEvent } from '../../src/events/types.js';

const strict = { allowHttp: false, allowPrivate: false };

/** A resolver that answers from a table, as a DNS server the test controls would. */
function resolverOf(table: Record<string, readonly string[]>): Resolver {
  return (host) => {
    const addresses = table[host];
    if (!addresses) return Promise.reject(new Error('ENOTFOUND'));
    return Promise.resolve(
      addresses.map((address): LookupAddress => ({
        address,
        family: address.includes(':') ? 6 : 4,
      })),
    );
  };
}

describe('subscription URL guard', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['169.254.169.254', 'metadata'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['169.254.10.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['0.0.0.0', 'reserved'],
    ['::', 'reserved'],
    ['224.0.0.1', 'reserved'],
    ['8.8.8.8', 'public'],
    ['172.32.0.1', 'public'],
    ['2606:4700::1111', 'public'],
  ])('classifies %s as %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it('refuses a name that resolves to 10.0.0.1, and one with any private address among public ones', async () => {
    const resolve = resolverOf({
      'inside.example': ['10.0.0.1'],
      'mixed.example': ['93.184.215.14', '192.168.0.2'],
      'outside.example': ['93.184.215.14'],
    });
    await expect(checkUrl('https://inside.example/hook', strict, resolve)).rejects.toThrow(
      /private address \(10\.0\.0\.1\)/,
    );
    await expect(checkUrl('https://mixed.example/hook', strict, resolve)).rejects.toThrow(
      UrlRefused,
    );
    await expect(checkUrl('https://outside.example/hook', strict, resolve)).resolves.toBeInstanceOf(
      URL,
    );
    // With the allow setting, the same name is accepted.
    await expect(
      checkUrl('https://inside.example/hook', { allowHttp: false, allowPrivate: true }, resolve),
    ).resolves.toBeInstanceOf(URL);
  });

  it('refuses http without NPS_WEBHOOK_ALLOW_HTTP, other schemes always, and credentials in the URL', async () => {
    const resolve = resolverOf({ 'outside.example': ['93.184.215.14'] });
    await expect(checkUrl('http://outside.example/', strict, resolve)).rejects.toThrow(
      'must be https',
    );
    await expect(
      checkUrl('http://outside.example/', { allowHttp: true, allowPrivate: false }, resolve),
    ).resolves.toBeInstanceOf(URL);
    await expect(checkUrl('file:///etc/passwd', strict, resolve)).rejects.toThrow(UrlRefused);
    await expect(checkUrl('https://u:p@outside.example/', strict, resolve)).rejects.toThrow(
      'credentials',
    );
  });

  it('checks again at connect time: a name that resolves to 10.0.0.1 by then is never connected to', async () => {
    // Public when the subscription was made and when the attempt checks the URL, private when the
    // socket looks the name up (DNS rebinding between check and connect).
    let lookups = 0;
    const resolve: Resolver = () =>
      Promise.resolve([{ address: ++lookups <= 2 ? '93.184.215.14' : '10.0.0.1', family: 4 }]);
    await expect(checkUrl('https://rebind.example/', strict, resolve)).resolves.toBeInstanceOf(URL);
    const subscription: Subscription = {
      subscriptionId: 'sub_x',
      url: 'https://rebind.example/hook',
      events: ['response.created'],
      surveyId: null,
      format: 'standard',
      secret: `whsec_${Buffer.alloc(24, 7).toString('base64')}`,
      createdAt: new Date(0).toISOString(),
    };
    const event: NpsEvent = {
      id: 'evt_1',
      type: 'response.created',
      timestamp: new Date(0).toISOString(),
      surveyId: 's',
      respondentId: null,
      data: {},
    };
    const result = await send(event, subscription, {
      policy: strict,
      timeoutMs: 2000,
      publicBaseUrl: 'https://nps.example',
      resolve,
    });
    expect(result).toMatchObject({ ok: false, status: 0 });
    expect(result.error).toMatch(/^refused: .*private address \(10\.0\.0\.1\)/);
  });
});
