import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { explainPermissionError } from './immutable';
import { syncDir } from '../atomicWrite';

/**
 * Replacing resolv.conf: atomically (temp file in the same directory, fsync, rename) where the
 * path can be renamed over; in place (write + truncate + fsync) where it cannot because it is a
 * mount point (EBUSY: a bind-mounted file, as Docker and tests do; EXDEV alike). EPERM on an
 * immutable file becomes an ImmutableFileError that says how to fix it.
 */

export interface Ownership {
  mode: number;
  uid?: number;
  gid?: number;
}

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.meshdns.${process.pid}.${Date.now()}.tmp`);
}

function cannotRenameOver(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EBUSY' || code === 'EXDEV';
}

async function writeInPlace(path: string, data: Buffer, owner: Ownership): Promise<void> {
  const handle = await fs.open(path, 'r+');
  try {
    await handle.write(data, 0, data.length, 0);
    await handle.truncate(data.length);
    await handle.chmod(owner.mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Write `data` at `path` with the given mode (and owner, when we may), replacing a file or a symlink. */
export async function replaceFile(path: string, data: Buffer | string, owner: Ownership): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const tmp = tempName(path);
  try {
    const handle = await fs.open(tmp, 'wx', 0o600);
    try {
      await handle.write(bytes, 0, bytes.length, 0);
      await handle.chmod(owner.mode);
      if (owner.uid !== undefined && owner.gid !== undefined) await handle.chown(owner.uid, owner.gid).catch(() => undefined);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, path);
    await syncDir(dirname(path));
  } catch (err) {
    await fs.rm(tmp, { force: true });
    if (cannotRenameOver(err)) {
      try {
        await writeInPlace(path, bytes, owner);
        return;
      } catch (inPlaceErr) {
        throw await explainPermissionError(path, inPlaceErr);
      }
    }
    throw await explainPermissionError(path, err);
  }
}

/** Put a symlink with exactly `linkText` at `path` (atomically, by rename). */
export async function replaceWithSymlink(path: string, linkText: string): Promise<void> {
  const tmp = tempName(path);
  try {
    await fs.symlink(linkText, tmp);
    await fs.rename(tmp, path);
    await syncDir(dirname(path));
  } catch (err) {
    await fs.rm(tmp, { force: true });
    if (cannotRenameOver(err)) {
      throw new Error(`cannot put the symlink ${path} -> ${linkText} back: ${path} is a mount point; recreate it by hand with "ln -sfn ${linkText} ${path}"`);
    }
    throw await explainPermissionError(path, err);
  }
}

/** Remove the file (the original state was "no resolv.conf"). A bind-mounted file is emptied instead. */
export async function removeFile(path: string): Promise<void> {
  try {
    await fs.rm(path, { force: true });
    await syncDir(dirname(path));
  } catch (err) {
    if (cannotRenameOver(err)) {
      await writeInPlace(path, Buffer.alloc(0), { mode: 0o644 });
      return;
    }
    throw await explainPermissionError(path, err);
  }
}
