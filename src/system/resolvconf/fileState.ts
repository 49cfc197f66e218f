import { promises as fs } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** What is at the resolv.conf path: a regular file, a symlink (systemd-resolved), or nothing. */
export type FileState =
  | { kind: 'file'; content: Buffer; mode: number; uid: number; gid: number }
  | {
      kind: 'symlink';
      /** The link text exactly as readlink returns it (restored as is, relative or absolute). */
      linkText: string;
      /** The absolute path the link points at. */
      target: string;
      /** The target's content, when it can be read (a dangling link has none). */
      content?: Buffer;
    }
  | { kind: 'absent' };

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Read the path without following a symlink for the state, but following it for the content. */
export async function readFileState(path: string): Promise<FileState> {
  let st;
  try {
    st = await fs.lstat(path);
  } catch (err) {
    if (isMissing(err)) return { kind: 'absent' };
    throw err;
  }
  if (st.isSymbolicLink()) {
    const linkText = await fs.readlink(path);
    const target = resolve(dirname(path), linkText);
    try {
      return { kind: 'symlink', linkText, target, content: await fs.readFile(path) };
    } catch (err) {
      if (isMissing(err)) return { kind: 'symlink', linkText, target };
      throw err;
    }
  }
  if (!st.isFile()) throw new Error(`${path} is not a regular file or a symlink; meshdns will not manage it`);
  return { kind: 'file', content: await fs.readFile(path), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

/** The text glibc would read through this state (the link's target for a symlink). */
export function stateText(state: FileState): string | undefined {
  if (state.kind === 'absent') return undefined;
  return state.content?.toString('utf8');
}
