import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DigOptions, dig } from './dig';
import { Dnsmasq, startDnsmasq } from './dnsmasq';

// The dig/kdig helper parsed against a real dnsmasq, so later server tests can trust it.
// dnsmasq is started by the first row (not in a before hook, whose errors uvu swallows).

let server: Promise<Dnsmasq> | null = null;
const dnsmasq = (): Promise<Dnsmasq> =>
  (server ??= startDnsmasq({ hosts: ['192.0.2.10 web.test', '2001:db8::10 web.test'], localDomains: ['test'] }));

interface Row {
  name: string;
  ask: Omit<DigOptions, 'port'>;
  status: string;
  answers: string[];
  edns: boolean;
}

const rows: Row[] = [
  { name: 'dig over UDP with EDNS', ask: { name: 'web.test' }, status: 'NOERROR', answers: ['192.0.2.10'], edns: true },
  { name: 'dig over TCP without EDNS', ask: { name: 'web.test', type: 'AAAA', tcp: true, edns: false }, status: 'NOERROR', answers: ['2001:db8::10'], edns: false },
  { name: 'dig NXDOMAIN', ask: { name: 'nope.test' }, status: 'NXDOMAIN', answers: [], edns: true },
  { name: 'kdig over UDP without EDNS', ask: { name: 'web.test', tool: 'kdig' }, status: 'NOERROR', answers: ['192.0.2.10'], edns: false },
  { name: 'kdig over TCP with EDNS', ask: { name: 'web.test', tool: 'kdig', tcp: true, edns: true }, status: 'NOERROR', answers: ['192.0.2.10'], edns: true },
  { name: 'kdig NXDOMAIN', ask: { name: 'nope.test', tool: 'kdig' }, status: 'NXDOMAIN', answers: [], edns: false },
];

for (const row of rows) {
  test(row.name, async () => {
    const { port } = await dnsmasq();
    const result = await dig({ port, ...row.ask });
    assert.is(result.status, row.status);
    assert.equal(result.answers.map((r) => r.data), row.answers);
    assert.is(result.ednsUdpSize !== null, row.edns);
    assert.ok(result.flags.includes('qr'));
    if (row.answers.length > 0) assert.is(result.answers[0].ttl, 300);
  });
}

test('no server: NO-REPLY', async () => {
  const result = await dig({ port: 9, name: 'web.test', timeoutSeconds: 1 });
  assert.is(result.status, 'NO-REPLY');
});

test('a missing tool is an error, not a result', async () => {
  const saved = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    await dig({ port: 9, name: 'web.test' });
    assert.unreachable('dig should have thrown');
  } catch (error) {
    assert.match(String(error), /dig is not installed/);
  } finally {
    process.env.PATH = saved;
  }
});

test.after(async () => {
  const s = await server?.catch(() => null);
  await s?.stop();
});

test.run();
