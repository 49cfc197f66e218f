import type { Problem } from '../problem';
import type { Snapshot } from '../inputs';
import { REGISTRY_TREE_RULES } from '../registry';
import type { WatchTarget } from '../system/watch';

/** Settings bound at start (sockets, forwarder, cache) that a reload cannot change: a warning each. */
export function restartNeeded(started: Snapshot['settings'] | undefined, snap: Snapshot): Problem[] {
  if (started === undefined) return [];
  const differs: string[] = [];
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  if (!same(started.listen, snap.settings.listen)) differs.push('listen');
  if (!same(started.forward, snap.settings.forward)) differs.push('forward');
  if (!same(started.cache, snap.settings.cache)) differs.push('cache');
  if (started.metrics !== snap.settings.metrics) differs.push('metrics');
  if (!same(started.allowFrom, snap.settings.allowFrom)) differs.push('allowFrom');
  return differs.map((key) => ({
    file: snap.settingsFile,
    field: key,
    severity: 'warning' as const,
    message: `changed, but takes effect only after a restart (systemctl restart meshdns); the running value stays in use`,
  }));
}

/** Every input file and directory, and resolv.conf (docs/ARCHITECTURE.md §1, §4). */
export function watchTargets(snap: Snapshot): WatchTarget[] {
  const s = snap.settings;
  return [
    { path: snap.settingsFile, kind: 'inputs', recursive: false },
    { path: s.bootstrap.clusterEnv, kind: 'inputs', recursive: false },
    { path: s.bootstrap.meshConfig, kind: 'inputs', recursive: false },
    { path: s.bootstrap.hosts, kind: 'inputs', recursive: false },
    { path: s.istiod.token, kind: 'inputs', recursive: false },
    { path: s.istiod.rootCert, kind: 'inputs', recursive: false },
    ...s.registry.map((path) => ({ path, kind: 'inputs' as const, recursive: true, rules: REGISTRY_TREE_RULES })),
    { path: s.resolvConf.path, kind: 'resolvConf', recursive: false },
  ];
}

/** resolv.conf `options timeout:` applies unless the settings file set forward.timeout. */
export function forwardTimeoutMs(snap: Snapshot): number {
  if (!snap.settings.explicit.has('forward.timeout') && snap.resolvConf?.timeoutSeconds !== undefined) {
    return Math.max(100, snap.resolvConf.timeoutSeconds * 1000);
  }
  return snap.settings.forward.timeoutMs;
}

/** resolv.conf `options attempts:` applies unless the settings file set forward.attempts. */
export function forwardAttempts(snap: Snapshot): number {
  if (!snap.settings.explicit.has('forward.attempts') && snap.resolvConf?.attempts !== undefined) {
    return Math.max(1, snap.resolvConf.attempts);
  }
  return snap.settings.forward.attempts;
}
