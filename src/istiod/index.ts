import type { Snapshot } from '../inputs';
import type { Upstream } from '../config/types';
import type { IstiodContext } from './source';

export { IstiodSource } from './source';
export type { IstiodContext, IstiodStats, TableState } from './source';
export { ISTIOD_SOURCE_FILE } from './nameTable';

/** The inputs of the next istiod connect, from a snapshot and the upstreams in use. */
export function istiodContext(snap: Snapshot, upstreams: readonly Upstream[]): IstiodContext {
  const s = snap.settings;
  return {
    settings: s.istiod,
    stateDir: s.stateDir,
    clusterDomain: s.clusterDomain,
    namespace: snap.effective.namespace,
    clusterEnv: snap.clusterEnv.value ?? {},
    clusterEnvFile: s.bootstrap.clusterEnv,
    meshConfigFile: s.bootstrap.meshConfig,
    hosts: snap.hosts.get(s.bootstrap.hosts)?.value ?? [],
    upstreams,
  };
}
