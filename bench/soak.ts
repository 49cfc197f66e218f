// `npm run soak`: meshdns under load for SOAK_SECONDS (default 600) at 50% of its measured max
// QPS, registry rewritten every second, resolv.conf rewritten externally every 30 s while
// captured. Loopback only: it re-runs itself in private mount+net+pid namespaces (root / util-linux)
// so meshdns can own 127.0.0.1:53 and resolv.conf there; without namespaces it soaks on a
// random port with resolv.conf read but not captured (said so in the output).
import { spawnSync } from 'node:child_process';
import { IN_NAMESPACE_ENV, UNSHARE_ARGS, rerunInNamespace } from '../test/support/namespace';
import { runSoak } from '../test/support/soak';

function namespacesAvailable(): boolean {
  const probe = spawnSync('unshare', [...UNSHARE_ARGS, '--', 'true']);
  return probe.error === undefined && probe.status === 0;
}

async function main(): Promise<number> {
  const seconds = Number(process.argv[2] ?? process.env.SOAK_SECONDS ?? 600);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`soak seconds must be a positive number, got ${process.argv[2] ?? process.env.SOAK_SECONDS}`);
  const inside = process.env[IN_NAMESPACE_ENV] === '1';
  if (!inside && namespacesAvailable()) {
    rerunInNamespace();
    return -1; // the exit code comes from the namespaced run
  }
  const capture = inside;
  if (!capture) console.log('no namespaces (needs root and util-linux): soaking without resolv.conf capture');
  const resolvConfEveryMs = Number(process.env.SOAK_RESOLV_MS ?? (seconds >= 120 ? 30_000 : Math.max(2000, (seconds * 1000) / 5)));
  const result = await runSoak({ seconds, listenPort: capture ? 53 : 0, capture, resolvConfEveryMs, log: (l) => console.log(l) });
  console.log(JSON.stringify(result));
  console.log(
    `soak ${seconds} s at ${result.offeredQps} QPS (50% of ${result.maxQps}): ${result.perf.completed}/${result.perf.sent} answered, ` +
      `${result.failedQueries} failed; ${result.checks} answer checks (${result.checkFailures} wrong); ${result.registryRewrites} registry rewrites, ` +
      `${result.reloads} reloads; resolv.conf rewritten ${result.resolvConfRewrites}× (re-captured ${result.recaptures}×, restored byte for byte: ${result.restoredByteForByte}); ` +
      `RSS ${result.rssStartMb} → ${result.rssEndMb} MB (peak ${result.rssPeakMb}); fds ${result.fdsStart} → ${result.fdsEnd}`,
  );
  for (const f of result.failures) console.log(`FAILURE ${f}`);
  return result.failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
