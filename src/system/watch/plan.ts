import { lstatSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { isAbsolute, join, sep } from 'node:path';

/** A name in a directory whose events matter to a target. */
export interface NameInterest {
  dir: string;
  name: string;
}

/** What a target path is once every link is followed. */
export type FinalKind = 'file' | 'dir' | 'missing' | 'other';

export interface ChainPlan {
  /**
   * The names to watch: every symbolic link on the way (Kubernetes' `..data` swap replaces one),
   * the first missing component (a file or directory that appears later), and the final
   * entry itself, unless it exists and is neither a regular file nor a directory (a device such
   * as /dev/null: treated as absent, never watched, so writes to it wake nobody).
   */
  names: NameInterest[];
  kind: FinalKind;
  /** The real path the target resolves to (meaningful when `kind` is `file` or `dir`). */
  real: string;
}

/** Links followed before giving up (as the kernel's ELOOP limit). */
const MAX_LINKS = 40;

/**
 * Resolves `path` component by component (lstat and readlink only; nothing is opened),
 * collecting the names whose change could change what `path` reads (docs/ARCHITECTURE.md §1).
 */
export function planChain(path: string): ChainPlan {
  const names: NameInterest[] = [];
  let pending = components(path);
  let dir: string = sep;
  let links = 0;
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === '.') continue;
    if (name === '..') {
      dir = join(dir, '..');
      continue;
    }
    const full = join(dir, name);
    let info;
    try {
      info = lstatSync(full);
    } catch {
      names.push({ dir, name });
      return { names, kind: 'missing', real: full };
    }
    if (info.isSymbolicLink()) {
      names.push({ dir, name });
      if (++links > MAX_LINKS) return { names, kind: 'missing', real: full };
      let link: string;
      try {
        link = readlinkSync(full);
      } catch {
        return { names, kind: 'missing', real: full };
      }
      pending = [...components(isAbsolute(link) ? link : join(dir, link)), ...pending];
      dir = sep;
      continue;
    }
    if (pending.length === 0) {
      const kind: FinalKind = info.isFile() ? 'file' : info.isDirectory() ? 'dir' : 'other';
      if (kind !== 'other') names.push({ dir, name });
      return { names, kind, real: full };
    }
    if (!info.isDirectory()) {
      // A file where a directory is needed: the path cannot exist until this entry changes.
      names.push({ dir, name });
      return { names, kind: 'missing', real: full };
    }
    dir = full;
  }
  // The path was the root directory itself.
  return { names, kind: 'dir', real: dir };
}

function components(path: string): string[] {
  return path.split(sep).filter((c) => c !== '');
}

/** Which entries of a recursive target are read (files) and walked (directories). */
export interface TreeRules {
  reads(name: string): boolean;
  enters(name: string): boolean;
}

export interface TreePlan {
  /** Every directory of the tree (real paths): each is watched for all names, filtered by `TreeRules`. */
  dirs: string[];
  /** Links met in the tree: their chains are watched like a file target's. */
  names: NameInterest[];
}

/** Deeper than any registry layout; stops a pathological tree from costing unbounded watches. */
const MAX_DEPTH = 32;

/**
 * The directories under `root` that the registry loader walks (the same rules: names it
 * enters, symbolic links followed, each real directory once) and the link chains of the
 * entries it reads through links.
 */
export function planTree(root: string, rules: TreeRules): TreePlan {
  const plan: TreePlan = { dirs: [], names: [] };
  const seen = new Set<string>();
  const walk = (dir: string, depth: number): void => {
    let real: string;
    try {
      real = realpathSync(dir);
    } catch {
      return;
    }
    if (seen.has(real) || depth > MAX_DEPTH) return;
    seen.add(real);
    plan.dirs.push(real);
    let entries;
    try {
      entries = readdirSync(real, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = join(real, entry.name);
      if (entry.isDirectory()) {
        if (rules.enters(entry.name)) walk(full, depth + 1);
      } else if (entry.isSymbolicLink() && (rules.reads(entry.name) || rules.enters(entry.name))) {
        const chain = planChain(full);
        plan.names.push(...chain.names);
        if (chain.kind === 'dir' && rules.enters(entry.name)) walk(chain.real, depth + 1);
      }
    }
  };
  walk(root, 0);
  return plan;
}
