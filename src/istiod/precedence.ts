import type { RegistryFileInput } from '../nametable';
import type { ServiceEntryRecord, ServiceRecord } from '../registry/types';
import { serviceFqdn } from '../registry/names';

/**
 * Precedence between istiod and the registry files (docs/DECISIONS.md "istiod precedence"): a
 * host istiod names is taken from istiod, not from a registry.d file (that copy is the snapshot
 * that goes stale); hosts files still win over both (the builder ranks them first). Registry
 * records are filtered rather than merged: merging would answer with both address sets.
 * The filtered arrays are kept per push, so a reload without a push hands the builder the same
 * arrays (it skips unchanged files by identity).
 */
export class RegistryShadow {
  private hosts = new Set<string>();
  private generation = 0;
  private readonly cache = new WeakMap<readonly ServiceRecord[], { generation: number; records: readonly ServiceRecord[] }>();

  /** The hosts istiod names now (lower-case FQDNs). */
  setHosts(hosts: Set<string>): void {
    this.hosts = hosts;
    this.generation++;
  }

  apply(files: readonly RegistryFileInput[], clusterDomain: string): RegistryFileInput[] {
    if (this.hosts.size === 0) return files.slice();
    return files.map((f) => {
      const records = this.filtered(f.records, clusterDomain);
      return records === f.records ? f : { ...f, records };
    });
  }

  private filtered(records: readonly ServiceRecord[], clusterDomain: string): readonly ServiceRecord[] {
    const cached = this.cache.get(records);
    if (cached !== undefined && cached.generation === this.generation) return cached.records;
    let out: ServiceRecord[] | undefined;
    records.forEach((r, i) => {
      const kept = this.keep(r, clusterDomain);
      if (kept === r && out === undefined) return;
      out ??= records.slice(0, i);
      if (kept !== undefined) out.push(kept);
    });
    const result = out ?? records;
    this.cache.set(records, { generation: this.generation, records: result });
    return result;
  }

  /** The record as it stays beside istiod: itself, without the hosts istiod names, or nothing. */
  private keep(r: ServiceRecord, clusterDomain: string): ServiceRecord | undefined {
    if (r.kind === 'Service') return this.hosts.has(serviceFqdn(r.name, r.namespace, clusterDomain)) ? undefined : r;
    if (!r.hosts.some((h) => this.hosts.has(h))) return r;
    const hosts = r.hosts.filter((h) => !this.hosts.has(h));
    if (hosts.length === 0) return undefined;
    const entry: ServiceEntryRecord = { ...r, hosts };
    return entry;
  }
}

/** The FQDNs istiod's records name. */
export function hostsOf(records: readonly ServiceRecord[], clusterDomain: string): Set<string> {
  const out = new Set<string>();
  for (const r of records) {
    if (r.kind === 'Service') out.add(serviceFqdn(r.name, r.namespace, clusterDomain));
    else for (const h of r.hosts) out.add(h);
  }
  return out;
}
