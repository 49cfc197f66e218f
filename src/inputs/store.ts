import { promises as fs } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Parsed, Problem } from '../problem';
import type { BootstrapValues, EffectiveConfig, HostsEntry, Settings } from '../config/types';
import {
  bootstrapFromClusterEnv,
  loadSettingsFile,
  parseClusterEnv,
  parseHostsFile,
  parseMeshConfig,
  resolveEffectiveConfig,
} from '../config';
import { listRegistryFiles, parseRegistryText } from '../registry';
import type { RegistryDocuments } from '../registry/types';
import { parseResolvConf, type ResolvConf } from '../config/resolvConf';
import { hostAddresses } from '../system/hostAddresses';

/**
 * Reads every input file and remembers, per file, the last content that parsed cleanly
 * (docs/ARCHITECTURE.md §1: a broken file is reported and its last good content stays in use; the other
 * files are unaffected; a missing file is not an error).
 */

/** One input file's state: what is in use, and what the latest read said about it. */
export interface FileSlot<T> {
  /** In use: the last clean parse, or (before any clean parse) the best partial one. */
  value: T | undefined;
  /** Problems of the latest read (empty when it was clean). */
  problems: Problem[];
  /** True when `value` comes from an older read because the latest one was broken. */
  stale: boolean;
  exists: boolean;
  /** Identity of the file content last read (size, mtime, inode): unchanged files are not re-parsed. */
  stamp?: string;
}

/** Everything the table and the server are built from, at one moment. */
export interface Snapshot {
  settingsFile: string;
  settings: Settings;
  effective: EffectiveConfig;
  clusterEnv: FileSlot<Record<string, string>>;
  meshConfig: FileSlot<BootstrapValues>;
  /** Every hosts file: the bootstrap one and `*.hosts` files of registry directories. */
  hosts: Map<string, FileSlot<HostsEntry[]>>;
  registry: Map<string, FileSlot<RegistryDocuments>>;
  resolvConf: ResolvConf | undefined;
  /** Problems of every input, in a stable order (settings, bootstrap, hosts, registry). */
  problems: Problem[];
}

/** Paths in the settings file are relative to the settings file itself. */
function withAbsolutePaths(settings: Settings, abs: (p: string) => string): Settings {
  return {
    ...settings,
    bootstrap: {
      clusterEnv: abs(settings.bootstrap.clusterEnv),
      meshConfig: abs(settings.bootstrap.meshConfig),
      hosts: abs(settings.bootstrap.hosts),
    },
    registry: settings.registry.map(abs),
    registrySources: settings.registrySources.map((r) => ({ ...r, path: abs(r.path) })),
    resolvConf: { ...settings.resolvConf, path: abs(settings.resolvConf.path) },
    stateDir: abs(settings.stateDir),
    istiod: { ...settings.istiod, rootCert: abs(settings.istiod.rootCert), token: abs(settings.istiod.token) },
  };
}

async function readOptional(file: string): Promise<{ text?: string; problem?: Problem }> {
  try {
    return { text: await fs.readFile(file, 'utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return {};
    if (code === 'EISDIR') return { problem: { file, message: 'is a directory, expected a file' } };
    return { problem: { file, message: `cannot read: ${(err as Error).message}` } };
  }
}

/** Fold a fresh parse into a slot, keeping the last good value when the new one is broken. */
export function nextSlot<T>(previous: FileSlot<T> | undefined, parsed: Parsed<T> | undefined, readProblem?: Problem): FileSlot<T> {
  if (readProblem !== undefined) {
    return { value: previous?.value, problems: [readProblem], stale: previous?.value !== undefined, exists: true };
  }
  if (parsed === undefined) return { value: undefined, problems: [], stale: false, exists: false };
  const errors = parsed.problems.filter((p) => p.severity !== 'warning');
  if (errors.length === 0) return { value: parsed.value, problems: parsed.problems, stale: false, exists: true };
  if (previous !== undefined && previous.value !== undefined && !previous.stale && previous.problems.every((p) => p.severity === 'warning')) {
    return { value: previous.value, problems: parsed.problems, stale: true, exists: true };
  }
  if (previous !== undefined && previous.stale) return { value: previous.value, problems: parsed.problems, stale: true, exists: true };
  // Nothing good to fall back to: serve what did parse.
  return { value: parsed.value, problems: parsed.problems, stale: false, exists: true };
}

async function statStamp(file: string): Promise<string | undefined> {
  try {
    const st = await fs.stat(file);
    return `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}`;
  } catch {
    return undefined;
  }
}

async function readSlot<T>(
  file: string,
  previous: FileSlot<T> | undefined,
  parse: (text: string, file: string) => Parsed<T>,
  force: boolean,
): Promise<FileSlot<T>> {
  // A reload after one file changed must not re-parse the other thousands: same stamp, same slot.
  const stamp = await statStamp(file);
  if (!force && previous !== undefined && stamp !== undefined && previous.stamp === stamp) return previous;
  const { text, problem } = await readOptional(file);
  if (problem !== undefined) return { ...nextSlot(previous, undefined, problem), stamp };
  if (text === undefined) return nextSlot<T>(previous, undefined);
  return { ...nextSlot(previous, parse(text, file)), stamp };
}

function parseClusterEnvFile(text: string, file: string): Parsed<Record<string, string>> {
  return parseClusterEnv(text, file);
}

export interface InputStoreOptions {
  /** Path of meshdns.yaml; a missing file means all defaults. */
  settingsFile: string;
}

export class InputStore {
  private snapshotValue: Snapshot | undefined;

  constructor(private readonly options: InputStoreOptions) {}

  get current(): Snapshot | undefined {
    return this.snapshotValue;
  }

  /**
   * Read the inputs again. Files whose size/mtime/inode did not change keep their parsed slot
   * unless `force` (SIGHUP: re-read everything).
   */
  async load(options: { force?: boolean } = {}): Promise<Snapshot> {
    const force = options.force === true;
    const prev = this.snapshotValue;
    const settingsFile = resolve(this.options.settingsFile);
    const settingsRead = await loadSettingsFile(settingsFile);
    // Settings are all-or-nothing per key: the parser already substituted defaults for bad keys,
    // but a broken settings file must not move meshdns off its running configuration.
    const settingsBroken = settingsRead.problems.some((p) => p.severity !== 'warning');
    const baseDir = dirname(settingsFile);
    const abs = (p: string): string => resolve(baseDir, p);
    const settings = settingsBroken && prev !== undefined ? prev.settings : withAbsolutePaths(settingsRead.value, abs);
    const clusterEnv = await readSlot(abs(settings.bootstrap.clusterEnv), prev?.clusterEnv, parseClusterEnvFile, force);
    const meshConfig = await readSlot(abs(settings.bootstrap.meshConfig), prev?.meshConfig, parseMeshConfig, force);

    const bootstrapProblems: Problem[] = [];
    let envValues: BootstrapValues | undefined;
    if (clusterEnv.value !== undefined) {
      const parsed = bootstrapFromClusterEnv(clusterEnv.value, abs(settings.bootstrap.clusterEnv));
      envValues = parsed.value;
      bootstrapProblems.push(...parsed.problems);
    }
    const effective = resolveEffectiveConfig(settings, envValues, meshConfig.value, hostAddresses());

    const listed = await listRegistryFiles(settings.registry.map(abs));
    const hostsFiles = [abs(settings.bootstrap.hosts), ...listed.hostsFiles];
    const hosts = new Map<string, FileSlot<HostsEntry[]>>();
    for (const file of hostsFiles) {
      const slot = await readSlot(file, prev?.hosts.get(file), parseHostsFile, force);
      if (slot.exists) hosts.set(file, slot);
    }
    const registry = new Map<string, FileSlot<RegistryDocuments>>();
    for (const file of listed.files) {
      const slot = await readSlot(file, prev?.registry.get(file), parseRegistryText, force);
      if (slot.exists) registry.set(file, slot);
    }

    const resolvPath = abs(settings.resolvConf.path);
    const resolvText = await readOptional(resolvPath);
    const resolvConf = resolvText.text !== undefined ? parseResolvConf(resolvText.text) : undefined;

    const problems: Problem[] = [
      ...settingsRead.problems,
      ...clusterEnv.problems,
      ...bootstrapProblems,
      ...meshConfig.problems,
      ...[...hosts.values()].flatMap((s) => s.problems),
      ...listed.problems,
      ...[...registry.values()].flatMap((s) => s.problems),
    ];
    if (resolvText.problem !== undefined) problems.push(resolvText.problem);

    const snapshot: Snapshot = { settingsFile, settings, effective, clusterEnv, meshConfig, hosts, registry, resolvConf, problems };
    this.snapshotValue = snapshot;
    return snapshot;
  }
}
