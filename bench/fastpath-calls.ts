/**
 * Drives the UDP fast path in-process, for instruction counts under callgrind (repeatable on a
 * shared machine where dnsperf's QPS is not):
 *
 *   valgrind --tool=callgrind --callgrind-out-file=/dev/null node dist/bench/fastpath-calls.js local 200000
 *
 * `local` answers a table name from its reply template, `cached` answers a cache hit
 * (`ResponseCache.answerInto`); the query alternates RD/CD so the per-query flag patch runs.
 * Run once with N and once with 0: the difference over N is the cost of one answer (the setup,
 * Node's start and the JIT warm-up cancel out). bench/RESULTS.md has the figures.
 */
import { ResponseCache } from '../src/dns/cache/responseCache';
import { createFastPath } from '../src/dns/fastPath';
import { parseQuery } from '../src/dns/wire';
import { buildNameTable } from '../test/support/buildNameTable';

const mode = process.argv[2] === 'cached' ? 'cached' : 'local';
const count = Number(process.argv[3] ?? 200_000);

const table = buildNameTable({
  records: [],
  hostsFiles: [{ file: 'hosts', entries: [{ address: '10.0.0.1', names: ['svc-1.bench.internal'], line: 1 }] }],
  clusterDomain: 'cluster.local',
  namespace: 'default',
  searchDomains: [],
  allocations: {},
});

/** A query as dig sends it without a cookie: one A question and an OPT (1232, no options). */
function queryFor(name: string, flags: number): Buffer {
  const labels = name.split('.').flatMap((l) => [Buffer.from([l.length]), Buffer.from(l, 'latin1')]);
  const header = Buffer.from([0x12, 0x34, flags >> 8, flags & 0xff, 0, 1, 0, 0, 0, 0, 0, 1]);
  const tail = Buffer.from([0, 0, 1, 0, 1, 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([header, ...labels, tail]);
}

const cache = new ResponseCache({ maxEntries: 10 });
const cachedName = 'www.example.com';
const stored = queryFor(cachedName, 0x0100);
const parsed = parseQuery(stored, 'udp');
if (!parsed.ok) throw new Error('bench query did not parse');
// The upstream's reply: the question, one A record (owner pointer, TTL 300), an OPT.
const reply = Buffer.concat([
  Buffer.from([0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 1]),
  stored.subarray(12, parsed.query.questionEnd),
  Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4, 192, 0, 2, 1]),
  Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]),
]);
if (!cache.store(parsed.query, reply)) throw new Error('bench reply was not cacheable');

const fast = createFastPath({ table: () => table, ttl: () => 30, enabled: () => true, cache, onAnswered: () => undefined });
const name = mode === 'local' ? 'svc-1.bench.internal' : cachedName;
const queries = [queryFor(name, 0x0100), queryFor(name, 0x0010), queryFor(name, 0x0000), queryFor(name, 0x0110)];
const out = Buffer.alloc(4096);
let bytes = 0;
for (let i = 0; i < count; i++) {
  const q = queries[i & 3];
  bytes += fast.answer(q, 0, q.length, out, 0);
}
if (count > 0 && bytes === 0) throw new Error(`the fast path declined every ${mode} query`);
process.stdout.write(`${mode} ${count} answers, ${bytes} bytes\n`);
