/**
 * Merging the contributions of each name into the table's entry (docs/ARCHITECTURE.md §2): the
 * highest-ranking sources win, equal ranks merge in input order, and a short form (alias)
 * follows the first canonical name in input order that is in the table. Only the names an
 * update touched are merged again.
 */
import { CompactMultiMap } from '../collections/compactMultiMap';
import { onlyOf } from '../collections/oneOrMany';
import type { ServicePort } from '../registry/types';
import { RANK_ALIAS, exactCopy, isAlias, sourceRank, type Contribution } from './derive';
import { AddressIndex } from './table';
import type { NameInfo, NameOrigin } from './types';
import { compareUnits, type Unit } from './units';

/** What one merge changed (names that appeared, disappeared, or answer differently), and the new entries. */
export interface MergeCounts {
  added: number;
  removed: number;
  changed: number;
}

function rankOf(unit: Unit, c: Contribution): number {
  return isAlias(c) ? RANK_ALIAS : sourceRank(unit.record);
}

function byOrder(a: readonly [Unit, Contribution], b: readonly [Unit, Contribution]): number {
  return compareUnits(a[0], b[0]);
}

/** Merge the contributions of one canonical name: the highest rank wins; equal ranks merge in input order. */
export function mergeCanonical(name: string, contributions: ReadonlyArray<readonly [Unit, Contribution]>): NameInfo | undefined {
  let top = 0;
  for (const [u, c] of contributions) top = Math.max(top, rankOf(u, c));
  if (top === RANK_ALIAS) return undefined;
  const winners = contributions.filter(([u, c]) => rankOf(u, c) === top);
  // The usual case, one source: its contribution is the entry.
  if (winners.length === 1) return winners[0][1];
  winners.sort(byOrder);
  const v4: string[] = [];
  const v6: string[] = [];
  const ports: ServicePort[] = [];
  const origins: NameOrigin[] = [];
  for (const [, c] of winners) {
    for (const a of c.v4) if (!v4.includes(a)) v4.push(a);
    for (const a of c.v6) if (!v6.includes(a)) v6.push(a);
    for (const p of c.ports) if (!ports.some((q) => q.name === p.name && q.transport === p.transport)) ports.push(p);
    for (const o of c.origins) if (!origins.includes(o)) origins.push(o);
  }
  return { name, canonical: name, v4: exactCopy(v4), v6: exactCopy(v6), ports: ports.slice(), origins: origins.slice() };
}

/** The contribution offering `name` when `unit` is its only source and offers it once (almost every name). */
function soleContribution(name: string, unit: Unit | undefined): Contribution | undefined {
  if (unit === undefined) return undefined;
  let found: Contribution | undefined;
  for (const c of unit.contributions) {
    if (c.name !== name) continue;
    if (found !== undefined) return undefined;
    found = c;
  }
  return found;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function sameAnswer(a: NameInfo, b: NameInfo): boolean {
  return sameList(a.v4, b.v4) && sameList(a.v6, b.v6) && a.ports.length === b.ports.length && a.ports.every((p, i) => p.port === b.ports[i].port && p.name === b.ports[i].name);
}

/**
 * The table's state between updates: every name's sources (`sources`, name → units), the
 * merged entries (`exact`, `wildcards` by apex), the reverse index, and which short forms
 * follow which canonical name.
 */
export class MergedNames {
  /** name → the units that offer it. */
  readonly sources = new CompactMultiMap<Unit>();
  readonly exact = new Map<string, NameInfo>();
  readonly wildcards = new Map<string, NameInfo>();
  readonly addresses = new AddressIndex(this.exact);
  /** canonical name → alias names that currently point at it. */
  private readonly aliasesOf = new CompactMultiMap<string>();

  /** Every (unit, contribution) offering `name`. */
  contributionsOf(name: string): Array<readonly [Unit, Contribution]> {
    const out: Array<readonly [Unit, Contribution]> = [];
    this.sources.forEachOf(name, (u) => {
      for (const c of u.contributions) if (c.name === name) out.push([u, c]);
    });
    return out;
  }

  /**
   * Merge again the names in `dirty` (every indexed name when `fromEmpty`): canonical names
   * first, then the short forms that depend on them. New entries go to `fresh`.
   */
  remerge(dirty: Iterable<string>, fresh: NameInfo[], fromEmpty: boolean): MergeCounts {
    const counts: MergeCounts = { added: 0, removed: 0, changed: 0 };
    const count = (before: NameInfo | undefined, after: NameInfo | undefined): void => {
      if (after !== undefined && after !== before) fresh.push(after);
      if (before === undefined && after !== undefined) counts.added++;
      else if (before !== undefined && after === undefined) counts.removed++;
      else if (before !== undefined && after !== undefined && !sameAnswer(before, after)) counts.changed++;
    };
    const aliasNames = new Set<string>();
    // From empty, every indexed name is dirty: walk the index itself (no lookup per name).
    if (fromEmpty) this.sources.forEachKey((name, only) => this.mergeName(name, only, true, aliasNames, count));
    else for (const name of dirty) this.mergeName(name, onlyOf(this.sources.raw(name)), false, aliasNames, count);
    for (const alias of aliasNames) this.mergeAlias(alias, count);
    return counts;
  }

  /**
   * One dirty name as a canonical name (`only`: its unit when it has one); short forms it may
   * affect go to `aliasNames`.
   */
  private mergeName(
    name: string,
    only: Unit | undefined,
    fromEmpty: boolean,
    aliasNames: Set<string>,
    count: (before: NameInfo | undefined, after: NameInfo | undefined) => void,
  ): void {
    // A bare `*` host would capture every query; Istio's proxy ignores it too.
    if (name === '*') return;
    const sole = soleContribution(name, only);
    let canonical: NameInfo | undefined;
    if (sole !== undefined) {
      // One source: it is the entry, unless it is a short form.
      canonical = isAlias(sole) ? undefined : sole;
      if (isAlias(sole)) aliasNames.add(name);
    } else {
      const contributions = this.contributionsOf(name);
      canonical = mergeCanonical(name, contributions);
      // Alias contributions of this name (it may be a short form, now or before).
      for (const [, c] of contributions) if (isAlias(c)) aliasNames.add(name);
    }
    if (name.startsWith('*.')) {
      const apex = name.slice(2);
      const before = this.wildcards.get(apex);
      if (canonical === undefined) this.wildcards.delete(apex);
      else this.wildcards.set(apex, canonical);
      count(before, canonical);
      return;
    }
    // From empty, no canonical name was in the table before (each dirty name comes once).
    const before = fromEmpty ? undefined : this.exact.get(name);
    const beforeWasCanonical = before !== undefined && before.canonical === name;
    if (canonical === undefined && !beforeWasCanonical) {
      if (before !== undefined) aliasNames.add(name); // an alias whose sources changed
      return;
    }
    if (beforeWasCanonical) this.addresses.removeName(name, before);
    if (canonical === undefined) {
      this.exact.delete(name);
      aliasNames.add(name); // an alias may take over the spelling
    } else {
      this.exact.set(name, canonical);
      this.addresses.addName(name, canonical);
    }
    count(before, canonical);
    // Short forms of this canonical name follow it.
    if (!fromEmpty) this.aliasesOf.forEachOf(name, (alias) => aliasNames.add(alias)); // none yet from empty
  }

  /** One short form: the first (in input order) whose canonical name is in the table wins. */
  private mergeAlias(alias: string, count: (before: NameInfo | undefined, after: NameInfo | undefined) => void): void {
    const before = this.exact.get(alias);
    if (before !== undefined && before.canonical === alias) return; // a canonical name beats an alias
    const candidates = this.contributionsOf(alias)
      .filter(([, c]) => isAlias(c))
      .sort(byOrder);
    let after: NameInfo | undefined;
    for (const [, c] of candidates) {
      const target = this.exact.get(c.canonical);
      if (target !== undefined && target.canonical === c.canonical) {
        // Unchanged short forms keep their object (and with it their precomputed answer bytes).
        after =
          before !== undefined && before.canonical === target.canonical && sameAnswer(before, target) && before.origins === target.origins
            ? before
            : { name: alias, canonical: target.canonical, v4: target.v4, v6: target.v6, ports: target.ports, origins: target.origins };
        break;
      }
    }
    if (before !== undefined && before.canonical !== alias) this.aliasesOf.remove(before.canonical, alias);
    if (after === undefined) this.exact.delete(alias);
    else this.exact.set(alias, after);
    if (after !== undefined) this.aliasesOf.add(after.canonical, alias);
    count(before, after);
  }
}
