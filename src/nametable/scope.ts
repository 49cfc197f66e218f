import type { LabelSelector } from '../config/types';
import type { Problem } from '../problem';
import type { EndpointSet, NamespaceLabels, ServiceEntryRecord, ServiceRecord } from '../registry/types';
import { CompactMultiMap } from '../collections/compactMultiMap';
import { serviceFqdn } from '../registry/names';
import { hiddenBy, type VisibilityContext } from './visibility';
import { decide, keeps, type Candidate, type Decision } from './winner';

/**
 * The registry as the VM's proxy would get it from istiod (issue 17): records hidden by
 * exportTo or discoverySelectors are left out, and a host offered in several namespaces (or
 * clusters) is left only to the records that win it (winner.ts). The builder then applies
 * Istio's DNS rules to what is left, as before.
 *
 * Incremental like the builder it feeds: a file whose parsed records are the same array as last
 * time is not looked at again unless a host it offers changed hands, and a file nothing was
 * taken from is passed on as the very same array, so the builder keeps all its units
 * (`keptWhole` in build.ts). Taking hosts from a ServiceEntry makes a copy with the hosts it
 * kept, memoized so that the builder sees the same object while nothing changes.
 */
export interface ScopeFileInput {
  file: string;
  records: readonly ServiceRecord[];
  endpointSets: readonly EndpointSet[];
  /** The cluster the file names (marker or `registry: [{path, cluster}]`); undefined: the VM's own. */
  cluster?: string;
  namespaces?: readonly NamespaceLabels[];
}

export interface ScopeSettings {
  namespace: string;
  clusterId: string;
  clusterDomain: string;
  defaultExportTo: readonly string[];
  discoverySelectors: readonly LabelSelector[] | undefined;
  /** Where the selectors come from, for the `check` warning. */
  meshConfigFile: string;
}

interface FileState {
  input: readonly ServiceRecord[];
  cluster: string;
  /** Records the VM may see (their hosts are `hostsOf(record)`: no list kept per record). */
  visible: ServiceRecord[];
  hidden: Map<ServiceRecord, string>;
  output: readonly ServiceRecord[];
  seen: number;
}

/** A ServiceEntry with fewer hosts, and which ones it lost (the memo key). */
interface Narrowed {
  lost: string;
  record: ServiceEntryRecord;
}

export class ScopeFilter {
  private files = new Map<string, FileState>();
  /** host → the visible records offering it. */
  private byHost = new CompactMultiMap<ServiceRecord>();
  /** Contested hosts and who won them. */
  private decisions = new Map<string, Decision>();
  private clusterOf = new WeakMap<ServiceRecord, string>();
  private narrowed = new WeakMap<ServiceRecord, Narrowed>();
  private contextKey = '';
  private ctx: VisibilityContext | undefined;
  private generation = 0;
  private settings: ScopeSettings | undefined;
  private selectorsUnapplied = false;
  /** The cluster domain, lower-case without trailing dot. */
  private domain = '';

  /** The files with what the VM does not get taken out; same order, same arrays where untouched. */
  apply(files: readonly ScopeFileInput[], settings: ScopeSettings): Array<{ file: string; records: readonly ServiceRecord[]; endpointSets: readonly EndpointSet[] }> {
    const ctx = this.context(files, settings);
    const generation = ++this.generation;
    const changedHosts = new Set<string>();
    const dirtyFiles = new Set<string>();
    for (const f of files) {
      const cluster = f.cluster === undefined || f.cluster === settings.clusterId ? '' : f.cluster;
      const before = this.files.get(f.file);
      if (before !== undefined && before.input === f.records && before.cluster === cluster) {
        before.seen = generation;
        continue;
      }
      if (before !== undefined) this.forget(before, changedHosts);
      const state: FileState = { input: f.records, cluster, visible: [], hidden: new Map(), output: f.records, seen: generation };
      for (const record of f.records) {
        const reason = hiddenBy(record, ctx);
        if (reason !== undefined) {
          state.hidden.set(record, reason);
          continue;
        }
        if (cluster !== '') this.clusterOf.set(record, cluster);
        state.visible.push(record);
        for (const h of this.hostsOf(record)) {
          this.byHost.add(h, record);
          changedHosts.add(h);
        }
      }
      this.files.set(f.file, state);
      dirtyFiles.add(f.file);
    }
    for (const [file, state] of this.files) {
      if (state.seen === generation) continue;
      this.forget(state, changedHosts);
      this.files.delete(file);
    }
    // A host whose winner changed: every file offering it is output again.
    const fileOf = new Map<ServiceRecord, string>();
    if (changedHosts.size > 0) {
      for (const host of changedHosts) {
        const before = this.decisions.get(host);
        // One record offering the host (nearly every host) and no contest before: nothing to decide.
        if (before === undefined && !Array.isArray(this.byHost.raw(host))) continue;
        const after = decide(this.candidates(host));
        if (after === undefined) this.decisions.delete(host);
        else this.decisions.set(host, after);
        if (sameDecision(before, after)) continue;
        // Built once, only when some contest changed (rare): record → its file.
        if (fileOf.size === 0) for (const [file, s] of this.files) for (const r of s.visible) fileOf.set(r, file);
        for (const r of this.byHost.get(host)) {
          const file = fileOf.get(r);
          if (file !== undefined) dirtyFiles.add(file);
        }
      }
    }
    for (const file of dirtyFiles) {
      const state = this.files.get(file);
      if (state !== undefined) state.output = this.output(state);
    }
    return files.map((f) => ({ file: f.file, records: this.files.get(f.file)?.output ?? f.records, endpointSets: f.endpointSets }));
  }

  /** Warnings for `check`: selectors that cannot be applied. */
  problems(): Problem[] {
    const s = this.settings;
    if (s === undefined || !this.selectorsUnapplied) return [];
    return [
      {
        file: s.meshConfigFile,
        field: 'discoverySelectors',
        severity: 'warning',
        message:
          'cannot be applied: the registry has no Namespace objects to give the namespaces their labels, so Services of every namespace are served; add the Namespace objects (kubectl get namespaces -o yaml) to the registry',
      },
    ];
  }

  /** Lines for `explain`: records offering `name` that the VM does not get, and why. */
  describe(rawName: string): string[] {
    const s = this.settings;
    if (s === undefined) return [];
    const name = rawName.toLowerCase().replace(/\.$/, '');
    const domain = this.domain;
    const forms = new Set([name, `${name}.svc.${domain}`, `${name}.${s.namespace}.svc.${domain}`, `${name}.${domain}`]);
    const out: string[] = [];
    for (const state of this.files.values()) {
      for (const [record, reason] of state.hidden) {
        if (this.hostsOf(record).some((h) => forms.has(h))) out.push(`  hidden: ${describeRecord(record)}: ${reason}`);
      }
    }
    for (const host of forms) {
      const decision = this.decisions.get(host);
      if (decision === undefined) continue;
      out.push(`  ${host} is offered in several ${decision.winner.record.kind === 'Service' && this.candidates(host).some((c) => c.cluster !== decision.cluster) ? 'clusters or namespaces' : 'namespaces'}; ${describeRecord(decision.winner.record)} wins (a Kubernetes Service first, then the oldest creationTimestamp, then name, namespace)`);
      for (const c of this.candidates(host)) {
        if (!keeps(c, decision)) out.push(`  lost: ${describeRecord(c.record)}${c.cluster === '' ? '' : ` (cluster ${c.cluster})`}`);
      }
    }
    return out;
  }

  private context(files: readonly ScopeFileInput[], settings: ScopeSettings): VisibilityContext {
    const labels = new Map<string, Readonly<Record<string, string>>>();
    for (const f of files) for (const ns of f.namespaces ?? []) labels.set(ns.name, ns.labels);
    const selectors = settings.discoverySelectors !== undefined && settings.discoverySelectors.length > 0 ? settings.discoverySelectors : undefined;
    this.selectorsUnapplied = selectors !== undefined && labels.size === 0;
    const key = JSON.stringify([settings.namespace, settings.clusterId, settings.clusterDomain, settings.defaultExportTo, this.selectorsUnapplied ? null : selectors, [...labels]]);
    this.settings = settings;
    this.domain = settings.clusterDomain.toLowerCase().replace(/\.$/, '');
    if (key !== this.contextKey || this.ctx === undefined) {
      // What the VM may see changed as a whole: start over.
      this.contextKey = key;
      this.files = new Map();
      this.byHost = new CompactMultiMap();
      this.decisions = new Map();
      this.ctx = { namespace: settings.namespace, defaultExportTo: settings.defaultExportTo, discoverySelectors: this.selectorsUnapplied ? undefined : selectors, namespaceLabels: labels };
    }
    return this.ctx;
  }

  private forget(state: FileState, changedHosts: Set<string>): void {
    for (const record of state.visible) {
      for (const h of this.hostsOf(record)) {
        this.byHost.remove(h, record);
        changedHosts.add(h);
      }
    }
  }

  private candidates(host: string): Candidate[] {
    return this.byHost.get(host).map((record) => ({ record, cluster: this.clusterOf.get(record) ?? '' }));
  }

  /** The hosts a record offers: a ServiceEntry's, or a Service's FQDN (its names all derive from it). */
  private hostsOf(record: ServiceRecord): readonly string[] {
    return record.kind === 'Service' ? [serviceFqdn(record.name, record.namespace, this.domain)] : record.hosts;
  }

  private output(state: FileState): readonly ServiceRecord[] {
    if (state.hidden.size === 0 && this.decisions.size === 0) return state.input;
    const out: ServiceRecord[] = [];
    let changed = state.hidden.size > 0;
    for (const record of state.visible) {
      const hosts = this.hostsOf(record);
      const candidate: Candidate = { record, cluster: state.cluster };
      const kept = hosts.filter((h) => keeps(candidate, this.decisions.get(h)));
      if (kept.length === hosts.length) out.push(record);
      else {
        changed = true;
        if (kept.length > 0 && record.kind === 'ServiceEntry') out.push(this.narrow(record, kept));
      }
    }
    if (!changed) return state.input;
    const before = state.output;
    if (before !== state.input && before.length === out.length && before.every((r, i) => r === out[i])) return before;
    return out;
  }

  /** `record` with only `kept` of its hosts: the same object while the hosts it lost are the same. */
  private narrow(record: ServiceEntryRecord, kept: readonly string[]): ServiceEntryRecord {
    const lost = record.hosts.filter((h) => !kept.includes(h)).join(',');
    const memo = this.narrowed.get(record);
    if (memo !== undefined && memo.lost === lost) return memo.record;
    const narrowed: ServiceEntryRecord = { ...record, hosts: kept.slice() };
    this.narrowed.set(record, { lost, record: narrowed });
    return narrowed;
  }
}

function sameDecision(a: Decision | undefined, b: Decision | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.namespace === b.namespace && a.cluster === b.cluster && a.winner.record.kind === b.winner.record.kind;
}

function describeRecord(r: ServiceRecord): string {
  return `${r.kind} ${r.namespace}/${r.name} (${r.source.file} document ${r.source.document})`;
}
