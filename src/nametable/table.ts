import { CompactMultiMap } from '../collections/compactMultiMap';
import type { Lookup, NameInfo, NameTable, SrvLookup } from './types';
import { addressOfReverseName } from './reverse';

/** address → the canonical names holding it. */
export class AddressIndex {
  private readonly byAddress = new CompactMultiMap<string>();
  private built = false;

  /**
   * `table`: the canonical entries it indexes. The index is built from them on the first reverse
   * lookup, and only from then on kept up to date by updates: a build does not pay for an index
   * many workloads never query (docs/DECISIONS.md, "Reverse index"); the first PTR query after a
   * build pays it once.
   */
  constructor(private readonly table: ReadonlyMap<string, NameInfo>) {}

  /** The canonical name `name` now holds `info`'s addresses. */
  addName(name: string, info: NameInfo): void {
    if (!this.built) return;
    for (const a of info.v4) this.byAddress.add(a, name);
    for (const a of info.v6) this.byAddress.add(a, name);
  }

  /** The canonical name `name` no longer holds `info`'s addresses. */
  removeName(name: string, info: NameInfo): void {
    if (!this.built) return;
    for (const a of info.v4) this.byAddress.remove(a, name);
    for (const a of info.v6) this.byAddress.remove(a, name);
  }

  /** The PTR owner: the smallest name holding the address (order-independent, so stable). */
  owner(address: string): string | undefined {
    this.build();
    const names = this.byAddress.get(address);
    return names.length === 0 ? undefined : names.reduce((a, b) => (b < a ? b : a));
  }

  private build(): void {
    if (this.built) return;
    this.built = true;
    for (const [name, info] of this.table) if (info.canonical === name) this.addName(name, info);
  }
}

/** The table the DNS handlers read: the builder's maps, swapped in whole by each update. */
export class MapNameTable implements NameTable {
  readonly size: number;

  constructor(
    private readonly exact: ReadonlyMap<string, NameInfo>,
    private readonly wildcards: ReadonlyMap<string, NameInfo>,
    private readonly addresses: AddressIndex,
    readonly searchDomains: readonly string[],
  ) {
    this.size = exact.size + wildcards.size;
  }

  /** Most specific `*.apex` first: walk the name's suffixes from the longest proper one. */
  private matchWildcard(name: string): NameInfo | undefined {
    if (this.wildcards.size === 0) return undefined;
    let dot = name.indexOf('.');
    while (dot !== -1) {
      const info = this.wildcards.get(name.slice(dot + 1));
      if (info !== undefined) return info;
      dot = name.indexOf('.', dot + 1);
    }
    return undefined;
  }

  lookup(name: string): Lookup | undefined {
    const info = this.exact.get(name);
    if (info !== undefined) return { kind: 'name', info };
    const wild = this.matchWildcard(name);
    if (wild !== undefined) return { kind: 'wildcard', info: wild };
    // `X.<search domain>` for X in the table: the resolver's search walk, answered locally.
    for (const domain of this.searchDomains) {
      if (name.length <= domain.length + 1 || !name.endsWith(domain) || name.charCodeAt(name.length - domain.length - 1) !== 46) continue;
      const target = name.slice(0, name.length - domain.length - 1);
      // A name already under this search domain is not expanded again (Istio's rule): the
      // doubled form `x.ns.svc.cluster.local.ns.svc.cluster.local` goes upstream (NXDOMAIN).
      if (target.endsWith(domain) && target.charCodeAt(target.length - domain.length - 1) === 46) continue;
      const direct = this.exact.get(target);
      if (direct !== undefined) return { kind: 'search', info: direct, target, searchDomain: domain, viaWildcard: false };
      const viaWildcard = this.matchWildcard(target);
      if (viaWildcard !== undefined) return { kind: 'search', info: viaWildcard, target, searchDomain: domain, viaWildcard: true };
    }
    return undefined;
  }

  lookupSrv(name: string): SrvLookup | undefined {
    // `_port._proto.<name>`
    if (name.charCodeAt(0) !== 95) return undefined;
    const d1 = name.indexOf('.');
    if (d1 < 2 || name.charCodeAt(d1 + 1) !== 95) return undefined;
    const d2 = name.indexOf('.', d1 + 1);
    if (d2 < 0) return undefined;
    const portName = name.slice(1, d1);
    const proto = name.slice(d1 + 2, d2);
    const rest = name.slice(d2 + 1);
    const found = this.lookup(rest);
    if (found === undefined) return undefined;
    const port = found.info.ports.find((p) => p.name.toLowerCase() === portName && p.transport === proto);
    if (port === undefined) return undefined;
    // The SRV target must resolve on its own: the FQDN, or the concrete name a wildcard matched.
    const target =
      found.kind === 'wildcard' ? rest : found.kind === 'search' && found.viaWildcard ? found.target : found.info.canonical;
    return { info: found.info, target, port };
  }

  lookupPtr(name: string): string | undefined {
    const address = addressOfReverseName(name);
    return address === undefined ? undefined : this.addresses.owner(address);
  }

  *entries(): IterableIterator<NameInfo> {
    yield* this.exact.values();
    yield* this.wildcards.values();
  }
}
