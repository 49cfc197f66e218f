import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normalizedSearchDomains, parseResolvConf } from '../../src/config/resolvConf';

const rows: Array<[string, string, Partial<ReturnType<typeof parseResolvConf>>]> = [
  ['nameservers in order, comments ignored', '# hi\nnameserver 10.0.0.2\n; x\nnameserver fd00::53\n', { nameservers: ['10.0.0.2', 'fd00::53'] }],
  ['search list kept as written', 'search ns1.svc.cluster.local svc.cluster.local corp.example.\n', { search: ['ns1.svc.cluster.local', 'svc.cluster.local', 'corp.example.'] }],
  ['last search/domain line wins', 'search a.example\ndomain b.example\n', { search: ['b.example'] }],
  ['options timeout and attempts', 'options ndots:5 timeout:1 attempts:3\n', { options: ['ndots:5', 'timeout:1', 'attempts:3'], timeoutSeconds: 1, attempts: 3 }],
  ['CRLF and trailing comments', 'nameserver 1.1.1.1 # cloud\r\nsearch x.example\r\n', { nameservers: ['1.1.1.1'], search: ['x.example'] }],
  ['garbage nameserver ignored', 'nameserver not-an-ip\nnameserver\n', { nameservers: [] }],
];
for (const [title, text, expected] of rows) {
  test(title, () => {
    const parsed = parseResolvConf(text);
    for (const [k, v] of Object.entries(expected)) assert.equal((parsed as unknown as Record<string, unknown>)[k], v, k);
  });
}

test('search domains normalized for matching', () => {
  assert.equal(normalizedSearchDomains(parseResolvConf('search Corp.Example. svc.cluster.local\n')), ['corp.example', 'svc.cluster.local']);
});

test.run();
