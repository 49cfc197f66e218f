/**
 * The inputs of `npm run bench`, written into a scratch directory: the same 1,000 names as
 * ServiceEntries (meshdns) and as a hosts file (dnsmasq), dnsperf query files, the upstream's
 * unbound.conf and the meshdns settings files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const LOCAL_NAMES = 1000;
/** Every tenth query asks AAAA (the rest A), as a dual-stack client's mix might. */
const AAAA_EVERY = 10;
export const FORWARDED_NAMES = 1000;
export const UNIQUE_NAMES = 200_000;

export const localName = (i: number): string => `svc-${i}.bench.internal`;
const v4 = (i: number): string => `10.77.${i >> 8}.${i & 255}`;
const v6 = (i: number): string => `fd00:77::${i.toString(16)}`;
const forwardedName = (i: number): string => `fwd-${i}.up.test`;

export interface Fixtures {
  dir: string;
  registryDir: string;
  hostsFile: string;
  localQueries: string;
  forwardedQueries: string;
  uniqueQueries: string;
  /** A name the upstream answers, to check that forwarding works before measuring. */
  forwardedProbe: string;
}

function queryLines(count: number, name: (i: number) => string): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(`${name(i)} ${i % AAAA_EVERY === AAAA_EVERY - 1 ? 'AAAA' : 'A'}`);
  return `${lines.join('\n')}\n`;
}

export function writeFixtures(dir: string): Fixtures {
  const registryDir = join(dir, 'registry');
  mkdirSync(registryDir, { recursive: true });

  const docs: string[] = [];
  const hosts: string[] = [];
  for (let i = 0; i < LOCAL_NAMES; i++) {
    docs.push(`apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: svc-${i}
  namespace: bench
spec:
  hosts: [${localName(i)}]
  addresses: [${v4(i)}, "${v6(i)}"]
  ports: [{name: http, number: 80, protocol: HTTP}]
  resolution: STATIC
`);
    hosts.push(`${v4(i)} ${localName(i)}`, `${v6(i)} ${localName(i)}`);
  }
  writeFileSync(join(registryDir, 'bench.yaml'), docs.join('---\n'));
  const hostsFile = join(dir, 'dnsmasq.hosts');
  writeFileSync(hostsFile, `${hosts.join('\n')}\n`);

  const localQueries = join(dir, 'local.txt');
  writeFileSync(localQueries, queryLines(LOCAL_NAMES, localName));
  const forwardedQueries = join(dir, 'forwarded.txt');
  writeFileSync(forwardedQueries, queryLines(FORWARDED_NAMES, forwardedName));
  const uniqueQueries = join(dir, 'unique.txt');
  const unique: string[] = [];
  for (let i = 0; i < UNIQUE_NAMES; i++) unique.push(`u${i}.bench.test A`);
  writeFileSync(uniqueQueries, `${unique.join('\n')}\n`);

  return { dir, registryDir, hostsFile, localQueries, forwardedQueries, uniqueQueries, forwardedProbe: forwardedName(0) };
}

/**
 * unbound as the shared real upstream: `up.test` answers 1,000 fixed names (A and AAAA, long TTL,
 * with an SOA so NODATA would be cacheable), `bench.test` answers every name below it (redirect),
 * for the not-cached scenario's unique names.
 */
export function unboundConf(dir: string, address: string, port: number): string {
  const data: string[] = [];
  for (let i = 0; i < FORWARDED_NAMES; i++) {
    data.push(`  local-data: "${forwardedName(i)}. 3600 IN A 192.0.2.${(i % 250) + 1}"`);
    data.push(`  local-data: "${forwardedName(i)}. 3600 IN AAAA 2001:db8::${i.toString(16)}"`);
  }
  const file = join(dir, 'unbound.conf');
  writeFileSync(
    file,
    `server:
  interface: ${address}
  port: ${port}
  do-daemonize: no
  use-syslog: no
  logfile: ""
  chroot: ""
  username: ""
  directory: "${dir}"
  pidfile: ""
  num-threads: 1
  verbosity: 0
  do-ip6: no
  access-control: 127.0.0.0/8 allow
  local-zone: "up.test." static
  local-data: "up.test. 3600 IN SOA ns.up.test. admin.up.test. 1 3600 600 86400 3600"
${data.join('\n')}
  local-zone: "bench.test." redirect
  local-data: "bench.test. 3600 IN A 192.0.2.1"
remote-control:
  control-enable: no
`,
  );
  return file;
}

export interface MeshdnsConfigOptions {
  name: string;
  listen: string;
  upstream: string;
  cacheEntries: number;
  registry: string;
  /** Bootstrap files; missing files are fine for meshdns (they may appear later). */
  bootstrapDir: string;
  stateDir: string;
}

export function meshdnsConfig(dir: string, o: MeshdnsConfigOptions): string {
  const resolvConf = join(dir, 'resolv.conf');
  writeFileSync(resolvConf, `nameserver ${o.upstream.split(':')[0]}\n`);
  const file = join(dir, `${o.name}.yaml`);
  const b = resolve(o.bootstrapDir);
  writeFileSync(
    file,
    `listen: ["${o.listen}"]
bootstrap:
  clusterEnv: ${join(b, 'cluster.env')}
  meshConfig: ${join(b, 'mesh.yaml')}
  hosts: ${join(b, 'hosts')}
registry: [${resolve(o.registry)}]
resolvConf: {path: ${resolvConf}, manage: "false"}
stateDir: ${o.stateDir}
upstreams: ["${o.upstream}"]
cache: {maxEntries: ${o.cacheEntries}}
metrics: ""
log: {level: warn}
`,
  );
  return file;
}
