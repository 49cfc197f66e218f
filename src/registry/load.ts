import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import type { Parsed, Problem } from '../problem';
import type { RegistryDocuments } from './types';
import { parseRegistryText } from './parseFile';

/** The only part of the registry that touches the file system. */

export interface RegistryFileList {
  /** Manifests (`*.yaml`, `*.yml`, `*.json`), in a stable order: paths as given, each directory walked in name order. */
  files: string[];
  /** `*.hosts` files found beside them: extra static names in hosts(5) format. */
  hostsFiles: string[];
  /** Paths that exist but cannot be read (permissions, …). A missing path is not a problem. */
  problems: Problem[];
}

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
const HOSTS_EXTENSION = '.hosts';

/** Hidden files (also Kubernetes' `..data` ConfigMap links) and editor leftovers are never read. */
export function isIgnoredName(name: string): boolean {
  return (
    name.startsWith('.') ||
    name.endsWith('~') ||
    (name.startsWith('#') && name.endsWith('#')) ||
    /\.(swp|swo|swx|tmp|bak|orig|rej|dpkg-new|dpkg-old|dpkg-dist|rpmnew|rpmsave)$/i.test(name)
  );
}

type FileKind = 'manifest' | 'hosts' | undefined;

function kindOfName(name: string): FileKind {
  if (isIgnoredName(name)) return undefined;
  const extension = extname(name).toLowerCase();
  if (MANIFEST_EXTENSIONS.has(extension)) return 'manifest';
  if (extension === HOSTS_EXTENSION) return 'hosts';
  return undefined;
}

/** What the loader reads and walks inside a registry directory; the file watcher follows the same rules. */
export const REGISTRY_TREE_RULES = {
  reads: (name: string): boolean => kindOfName(name) !== undefined,
  enters: (name: string): boolean => !isIgnoredName(name),
};

/**
 * Expands registry paths (files or directories, walked recursively) into the files to read.
 * A file named directly is read whatever its extension (a `.hosts` one goes to `hostsFiles`).
 */
export async function listRegistryFiles(paths: readonly string[]): Promise<RegistryFileList> {
  const list: RegistryFileList = { files: [], hostsFiles: [], problems: [] };
  const seen = new Set<string>();
  const visitedDirs = new Set<string>();
  const add = (file: string, kind: 'manifest' | 'hosts'): void => {
    const key = resolve(file);
    if (seen.has(key)) return;
    seen.add(key);
    (kind === 'hosts' ? list.hostsFiles : list.files).push(file);
  };

  const walk = async (dir: string): Promise<void> => {
    // Symlinked directories may form a loop; each real directory is walked once.
    const real = await realpath(dir);
    if (visitedDirs.has(real)) return;
    visitedDirs.add(real);
    const names = (await readdir(dir)).sort(compareNames);
    for (const name of names) {
      if (isIgnoredName(name)) continue;
      const full = join(dir, name);
      const info = await statOrUndefined(full, list.problems);
      if (info === undefined) continue;
      if (info.isDirectory()) await walkOrReport(full);
      else if (info.isFile()) {
        const kind = kindOfName(name);
        if (kind !== undefined) add(full, kind);
      }
    }
  };
  const walkOrReport = async (dir: string): Promise<void> => {
    try {
      await walk(dir);
    } catch (error) {
      if (!isMissing(error)) list.problems.push({ file: dir, message: `cannot list this registry directory: ${errorText(error)}` });
    }
  };

  for (const path of paths) {
    const info = await statOrUndefined(path, list.problems);
    if (info === undefined) continue;
    if (info.isDirectory()) await walkOrReport(path);
    else add(path, extname(path).toLowerCase() === HOSTS_EXTENSION ? 'hosts' : 'manifest');
  }
  return list;
}

/** Reads and parses one registry file. A file that vanished in the meantime is simply empty. */
export async function readRegistryFile(file: string): Promise<Parsed<RegistryDocuments>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const empty: RegistryDocuments = { records: [], endpointSets: [], ignoredKinds: {} };
    if (isMissing(error)) return { value: empty, problems: [] };
    return { value: empty, problems: [{ file, message: `cannot read this registry file: ${errorText(error)}` }] };
  }
  return parseRegistryText(text, file);
}

/** Byte order, not locale order: the same files come in the same order on every host. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function statOrUndefined(path: string, problems: Problem[]): Promise<Awaited<ReturnType<typeof stat>> | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    // Missing, or a dangling symlink: the file may appear later, the watcher will see it.
    if (!isMissing(error)) problems.push({ file: path, message: `cannot read this registry path: ${errorText(error)}` });
    return undefined;
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
