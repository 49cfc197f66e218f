// `npm run fuzz`: the long fuzzing campaign (issue 8) against a real `meshdns run` process.
// Packets: first CLI argument, else FUZZ_PACKETS, else 10,000,000. Seed: FUZZ_SEED or the clock.
// Prints progress, then one JSON summary line; exits 1 on any failure (crash, hang, bad reply).
import { runFuzzCampaign } from '../test/support/fuzzCampaign';

async function main(): Promise<number> {
  const packets = Number(process.argv[2] ?? process.env.FUZZ_PACKETS ?? 10_000_000);
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
  if (!Number.isFinite(packets) || packets <= 0) throw new Error(`packet count must be a positive number, got ${process.argv[2]}`);
  console.log(`fuzzing meshdns with ${packets} packets, seed ${seed}`);
  const result = await runFuzzCampaign({ packets, seed, progressEvery: 500_000, log: (l) => console.log(l) });
  console.log(JSON.stringify(result));
  console.log(
    `${result.packetsSent} packets (${result.udpPackets} UDP, ${result.tcpPackets} TCP), meshdns counted ${result.serverCounted}, ` +
      `${result.healthChecks} health checks, ${(result.durationMs / 1000).toFixed(0)} s, RSS ${result.rssStartMb} → peak ${result.rssPeakMb} → ${result.rssEndMb} MB, ` +
      `fds ${result.fdsStart} → ${result.fdsEnd}, failures: ${result.failures.length}`,
  );
  for (const f of result.failures) console.log(`FAILURE ${f}`);
  return result.failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
