/**
 * `node dist/bench/dns-packet-decode.js`: what decoding an upstream reply costs with dns-packet
 * (a full decode into objects) against the record walk the forwarder and cache use (offsets
 * only), on the reply shapes the cache stores. Backs the dns-packet decision in docs/DECISIONS.md.
 */
import * as dnsPacket from 'dns-packet';
import { performance } from 'node:perf_hooks';
import { RRType } from '../src/dns/wire/constants';
import { walkRecords } from '../src/dns/wire/sections';

type Answer = dnsPacket.Answer;

function reply(answers: Answer[], authorities: Answer[] = []): Buffer {
  return dnsPacket.encode({
    type: 'response',
    id: 4242,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
    questions: [{ type: 'A', class: 'IN', name: 'www.example.org' }],
    answers,
    authorities,
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options: [] } as unknown as Answer],
  });
}

const a = (i: number): Answer => ({ type: 'A', class: 'IN', name: 'www.example.org', ttl: 300, data: `192.0.2.${i}` });
const shapes: Array<[string, Buffer]> = [
  ['1 A + OPT', reply([a(1)])],
  ['8 A + OPT', reply(Array.from({ length: 8 }, (_, i) => a(i + 1)))],
  [
    'NXDOMAIN, SOA + OPT',
    reply([], [{ type: 'SOA', class: 'IN', name: 'example.org', ttl: 900, data: { mname: 'ns1.example.org', rname: 'hostmaster.example.org', serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: 60 } }]),
  ],
];

function time(fn: () => void, iterations: number): number {
  for (let i = 0; i < iterations / 10; i++) fn();
  const t = performance.now();
  for (let i = 0; i < iterations; i++) fn();
  return ((performance.now() - t) * 1000) / iterations; // µs per call
}

const N = 200_000;
let sink = 0;
console.log('shape | bytes | dns-packet decode µs | record walk µs | ratio');
for (const [name, bytes] of shapes) {
  const full = time(() => {
    sink += dnsPacket.decode(bytes).answers?.length ?? 0;
  }, N);
  const walk = time(() => {
    let min = Infinity;
    walkRecords(bytes, (rr) => {
      if (rr.type !== RRType.OPT) min = Math.min(min, bytes.readUInt32BE(rr.ttlOffset));
    });
    sink += min;
  }, N);
  console.log(`${name} | ${bytes.length} | ${full.toFixed(2)} | ${walk.toFixed(3)} | ${(full / walk).toFixed(1)}×`);
}
if (sink === 42) console.log('');
