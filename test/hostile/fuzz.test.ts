// Wire fuzzing over real sockets (issue 8): ≥ 100k hostile packets over UDP and TCP against a
// real `meshdns run` process, a good query after every batch, framing abuse and slow-drip TCP
// clients; meshdns must never exit, hang, answer with a non-response, or grow without bound.
// FUZZ_PACKETS / FUZZ_SEED override the size and seed (a failure message names the seed).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runFuzzCampaign, type CampaignResult } from '../support/fuzzCampaign';
import { FUZZ_KINDS } from '../support/wireFuzz';

const PACKETS = Number(process.env.FUZZ_PACKETS ?? 100_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
let result: CampaignResult;

test('fuzz campaign: meshdns keeps answering the good query after every batch', async () => {
  result = await runFuzzCampaign({ packets: PACKETS, seed: SEED });
  console.log(`fuzz: ${JSON.stringify({ ...result, failures: result.failures.length })}`);
  assert.equal(result.failures, [], `seed ${SEED}`);
  assert.ok(result.healthChecks >= PACKETS / 500, `${result.healthChecks} health checks`);
});

test(`at least ${PACKETS} packets sent, every kind of hostile packet represented, over UDP and TCP`, () => {
  assert.ok(result.packetsSent >= PACKETS);
  assert.ok(result.udpPackets > 0 && result.tcpPackets > 0);
  for (const kind of FUZZ_KINDS) assert.ok((result.byKind[kind] ?? 0) > 0, `no ${kind} packets`);
});

test('most packets reached the parser (not lost in socket buffers): the count is honest', () => {
  assert.ok(result.serverCounted >= result.packetsSent * 0.5, `meshdns counted ${result.serverCounted} of ${result.packetsSent}`);
});

test('memory stays bounded and no descriptors leak', () => {
  assert.ok(result.rssPeakMb < 400, `peak RSS ${result.rssPeakMb} MB`);
  assert.ok(result.rssEndMb - result.rssStartMb < 150, `RSS ${result.rssStartMb} → ${result.rssEndMb} MB`);
  // The upstream socket pool holds up to 32 UDP sockets by design; beyond that is a leak.
  assert.ok(result.fdsEnd <= result.fdsStart + 32 + 8, `fds ${result.fdsStart} → ${result.fdsEnd}`);
});

test('framing abuse and slow-drip clients were exercised', () => {
  assert.ok(result.lyingFrames >= 5);
  assert.is(result.slowDrip, 8);
});

test.run();
