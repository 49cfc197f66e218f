// `meshdns explain NAME [TYPE]` on the demo inputs: which rule answers, and from which file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from '../../src/cli';

let dir = '';
function demo(): string {
  let root = __dirname;
  while (!existsSync(join(root, 'examples', 'demo'))) root = resolve(root, '..');
  dir = mkdtempSync(join(tmpdir(), 'meshdns-explain-'));
  cpSync(join(root, 'examples', 'demo'), dir, { recursive: true });
  rmSync(join(dir, '.state'), { recursive: true, force: true });
  writeFileSync(join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\nsearch vm-ns.svc.cluster.local svc.cluster.local cluster.local\n');
  const cfg = join(dir, 'meshdns.yaml');
  writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(/\/etc\/resolv\.conf/g, './resolv.conf'));
  return cfg;
}

async function explain(cfg: string, ...args: string[]): Promise<string> {
  const out: string[] = [];
  const code = await main(['explain', ...args, '--config', cfg], (l) => out.push(l), () => undefined);
  assert.is(code, 0);
  return out.join('\n');
}

const rows: Array<[string, string[], RegExp[]]> = [
  ['spec.addresses entry', ['address.internal'], [/answered locally: address.internal is in the table/, /address.internal A 198\.51\.100\.1/, /dns-proxying\.yaml document 0: ServiceEntry vm-ns\/external-address \(spec\.addresses\)/]],
  ['auto-allocated VIP', ['auto.internal', 'AAAA'], [/auto.internal AAAA 2001:2::1/, /\(allocated\)/]],
  ['short name of a Kubernetes service', ['productpage'], [/short form of productpage\.vm-ns\.svc\.cluster\.local/, /services\.yaml document 0\.0: Service vm-ns\/productpage \(clusterIP\)/]],
  ['search-domain walk', ['auto.internal.vm-ns.svc.cluster.local'], [/search-domain walk, auto.internal \+ search domain vm-ns.svc.cluster.local/, /CNAME auto.internal/]],
  ['NODATA for the missing family', ['address.internal', 'AAAA'], [/NODATA/]],
  ['opted-out entry forwards', ['not-auto.internal'], [/forwarded upstream: not in the mesh name table/]],
  ['other qtype of a mesh name forwards', ['address.internal', 'TXT'], [/only A, AAAA, PTR and SRV are answered locally/]],
  ['PTR', ['1.100.51.198.in-addr.arpa', 'PTR'], [/PTR address.internal/]],
  ['SRV', ['_http._tcp.productpage', 'SRV'], [/SRV 0 100 9080 productpage.vm-ns.svc.cluster.local/]],
];

test('explain rows on the demo', async () => {
  const cfg = demo();
  try {
    for (const [title, args, patterns] of rows) {
      const text = await explain(cfg, ...args);
      for (const p of patterns) assert.match(text, p, `${title}: ${text}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('explain without a name: usage error', async () => {
  const err: string[] = [];
  assert.is(await main(['explain'], () => undefined, (l) => err.push(l)), 2);
  assert.match(err.join(''), /give a NAME/);
});

test.run();
