import type { RegistrySources, Snapshot } from '../inputs';
import type { Upstream } from '../config/types';
import type { IstiodContext } from './source';
import { istiodWanted } from './enabled';
import { loadLastTable } from './lastTable';
import { RegistryShadow, hostsOf } from './precedence';

// The client itself (source.ts: grpc, generated descriptors) and the NameTable decoder
// (nameTable.ts: @bufbuild/protobuf, ~10 MiB of RSS once loaded) are imported on demand, not from
// here: a service with istiod off never loads them.
export type { IstiodContext, IstiodSource, IstiodStats, IstiodSummary, TableState } from './source';
export { istiodWanted, istiodDecision } from './enabled';
export { IstiodSwitch } from './switch';

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

/**
 * For `meshdns table` and `explain` (which do not connect): the table saved by the running
 * service, as the builder's extra source; undefined when istiod is off or nothing was saved.
 */
export async function savedIstiodSources(snap: Snapshot): Promise<RegistrySources | undefined> {
  if (!(await istiodWanted(snap.settings.istiod, snap.settings.stateDir))) return undefined;
  const saved = await loadLastTable(snap.settings.stateDir).catch(() => undefined);
  if (saved === undefined) return undefined;
  const { ISTIOD_SOURCE_FILE, NameTableRecords } = await import('./nameTable');
  const converted = new NameTableRecords().convert(saved.bytes, snap.settings.clusterDomain);
  if (!converted.ok) return undefined;
  const records = converted.records;
  const shadow = new RegistryShadow();
  shadow.setHosts(hostsOf(records, snap.settings.clusterDomain));
  return (files, clusterDomain) => [...shadow.apply(files, clusterDomain), { file: ISTIOD_SOURCE_FILE, records, endpointSets: [] }];
}
