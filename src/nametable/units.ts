import type { HostsEntry } from '../config/types';
import { mergeEndpoints } from '../registry/attach';
import type { EndpointSet, ServiceRecord } from '../registry/types';
import type { Contribution } from './derive';

/** One registry file's parsed content, in input order. */
export interface RegistryFileInput {
  file: string;
  records: readonly ServiceRecord[];
  endpointSets: readonly EndpointSet[];
}

/** A record (with its endpoints attached) or a hosts file: what names come from. */
export interface Unit {
  /** Input order (file index, file, position in the file), by which merges and allocations go: see `compareUnits`. */
  fileIndex: number;
  file: string;
  position: number;
  record?: ServiceRecord;
  hosts?: { file: string; entries: readonly HostsEntry[] };
  /** The names it offers now (derive.ts). */
  contributions: readonly Contribution[];
  /** The update that last saw this unit in the input (mark and sweep). */
  seen: number;
}

export const NO_CONTRIBUTIONS: readonly Contribution[] = Object.freeze([]);

/** Hosts files come after every registry file (their index is offset by this). */
const HOSTS_FILE_INDEX = 2 ** 40;

/** Input order: file index, then file name (a kept unit may carry an older index), then position. */
export function compareUnits(a: Unit, b: Unit): number {
  if (a.fileIndex !== b.fileIndex) return a.fileIndex - b.fileIndex;
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.position - b.position;
}

/** A registry file's parsed records as last seen, and the units kept for them. */
interface FileUnits {
  records: readonly ServiceRecord[];
  units: Unit[];
  /** Services take endpoints from other files, so their units are checked one by one. */
  hasServices: boolean;
  /** The update that last saw the file. */
  generation: number;
}

/**
 * Whether a registry file is unchanged as a whole: the very same parsed array as in the last
 * update (the input store hands back the same objects for an unchanged file), seen in that
 * update, and without Services (whose endpoints may have changed in another file). Then all
 * its units stay, and a reload that changed one file of a hundred looks at that one file only.
 */
function keptWhole(before: FileUnits | undefined, records: readonly ServiceRecord[], generation: number): before is FileUnits {
  return before !== undefined && before.records === records && !before.hasServices && before.generation === generation - 1;
}

/**
 * The units of the inputs, kept between updates: records are compared by identity (the input
 * store hands back the same parsed objects for files that did not change), Services also by the
 * endpoint sets they take from other files.
 */
export class UnitTracker {
  private readonly units = new Map<object, Unit>();
  /** Registry files as last seen, so an unchanged one is kept without a lookup per record. */
  private readonly fileUnits = new Map<string, FileUnits>();
  private generation = 0;
  private readonly endpointSetIds = new WeakMap<EndpointSet, number>();
  /** Units' endpoint signatures (see `endpointSignature`) where not empty: Services with endpoint sets. */
  private readonly signatures = new WeakMap<Unit, string>();
  private nextEndpointSetId = 1;

  get size(): number {
    return this.units.size;
  }

  /**
   * Compare the inputs with the units kept: `added` are new (in input order), `removed` are gone
   * or come back as a new unit (their endpoints changed).
   */
  diff(files: readonly RegistryFileInput[], hostsFiles: ReadonlyArray<{ file: string; entries: readonly HostsEntry[] }>): { added: Unit[]; removed: Unit[] } {
    // Endpoints of headless services may live in other files than their Service.
    const endpointsByService = new Map<string, EndpointSet[]>();
    for (const f of files) {
      for (const set of f.endpointSets) {
        const key = `${set.namespace}/${set.serviceName}`;
        const list = endpointsByService.get(key);
        if (list === undefined) endpointsByService.set(key, [set]);
        else list.push(set);
      }
    }
    const generation = ++this.generation;
    const added: Unit[] = [];
    const removed: Unit[] = [];
    files.forEach((f, fileIndex) => {
      const before = this.fileUnits.get(f.file);
      if (keptWhole(before, f.records, generation)) {
        for (const unit of before.units) unit.seen = generation;
        before.generation = generation;
        return;
      }
      const units: Unit[] = [];
      this.fileUnits.set(f.file, { records: f.records, units, hasServices: f.records.some((r) => r.kind === 'Service'), generation });
      f.records.forEach((record, i) => {
        const sets = record.kind === 'Service' ? endpointsByService.get(`${record.namespace}/${record.name}`) : undefined;
        const signature = this.endpointSignature(sets);
        const known = this.units.get(record);
        if (known !== undefined && known.seen === generation) {
          units.push(known); // the same object twice (here or in another file): once is enough
          return;
        }
        if (known !== undefined && (this.signatures.get(known) ?? '') === signature) {
          known.seen = generation;
          units.push(known);
          return;
        }
        if (known !== undefined) removed.push(known); // its endpoints changed: derive it again
        let attached: ServiceRecord = record;
        if (record.kind === 'Service' && sets !== undefined) {
          attached = { ...record, endpoints: mergeEndpoints([...record.endpoints, ...sets.flatMap((s) => s.endpoints)]) };
        }
        const unit: Unit = { fileIndex, file: f.file, position: i, record: attached, contributions: NO_CONTRIBUTIONS, seen: generation };
        if (signature !== '') this.signatures.set(unit, signature);
        this.units.set(record, unit);
        units.push(unit);
        added.push(unit);
      });
    });
    for (const [file, entry] of this.fileUnits) if (entry.generation !== generation) this.fileUnits.delete(file);
    hostsFiles.forEach((h, i) => {
      const known = this.units.get(h.entries);
      if (known !== undefined) {
        known.seen = generation;
        return;
      }
      const unit: Unit = { fileIndex: HOSTS_FILE_INDEX + i, file: h.file, position: 0, hosts: h, contributions: NO_CONTRIBUTIONS, seen: generation };
      this.units.set(h.entries, unit);
      added.push(unit);
    });
    for (const [key, unit] of this.units) {
      if (unit.seen !== generation) {
        removed.push(unit);
        this.units.delete(key);
      }
    }
    return { added, removed };
  }

  /** The endpoint sets a Service takes, as a string of their identities ('' for none). */
  private endpointSignature(sets: readonly EndpointSet[] | undefined): string {
    if (sets === undefined) return '';
    return sets
      .map((s) => {
        let id = this.endpointSetIds.get(s);
        if (id === undefined) {
          id = this.nextEndpointSetId++;
          this.endpointSetIds.set(s, id);
        }
        return id;
      })
      .join(',');
  }
}
