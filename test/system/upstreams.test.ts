import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chooseUpstreams, parseResolvConf } from '../../src/system/resolvconf';
import type { ListenAddress } from '../../src/config/types';

const listen: ListenAddress[] = [{ host: '127.0.0.1', port: 53, family: 4 }];
const conf = (t: string) => parseResolvConf(t);

const rows: Array<[string, Parameters<typeof chooseUpstreams>, string[]]> = [
  ['original nameservers in order', [[], conf('nameserver 10.0.0.2\nnameserver fd00::53\n'), undefined, listen], ['10.0.0.2', 'fd00::53']],
  ['meshdns itself is never an upstream', [[], conf('nameserver 127.0.0.1\nnameserver 10.0.0.2\n'), undefined, listen], ['10.0.0.2']],
  ['systemd-resolved stub replaced by its uplinks', [[], conf('nameserver 127.0.0.53\n'), conf('nameserver 192.0.2.1\nnameserver 192.0.2.2\n'), listen], ['192.0.2.1', '192.0.2.2']],
  ['stub without uplinks file is dropped', [[], conf('nameserver 127.0.0.53\n'), undefined, listen], []],
  ['settings upstreams win over resolv.conf', [[{ host: '10.9.9.9', port: 5353, family: 4 }], conf('nameserver 10.0.0.2\n'), undefined, listen], ['10.9.9.9']],
  ['duplicates collapse', [[], conf('nameserver 10.0.0.2\nnameserver 10.0.0.2\n'), undefined, listen], ['10.0.0.2']],
];
for (const [title, args, hosts] of rows) {
  test(title, () => assert.equal(chooseUpstreams(...args).upstreams.map((u) => u.host), hosts));
}
test('the same address on another port is not us', () => {
  const r = chooseUpstreams([], conf('nameserver 127.0.0.1\n'), undefined, [{ host: '127.0.0.1', port: 15353, family: 4 }]);
  assert.equal(r.upstreams.map((u) => `${u.host}:${u.port}`), ['127.0.0.1:53']);
});
test.run();
