import { execFile } from 'node:child_process';

/** resolv.conf carries the immutable (or append-only) attribute: meshdns refuses, never forces. */
export class ImmutableFileError extends Error {
  readonly code = 'EIMMUTABLE';
  constructor(readonly path: string, readonly attribute: 'i' | 'a' | 'unknown') {
    super(
      attribute === 'unknown'
        ? `${path} cannot be changed (EPERM even as its owner); if it is immutable, meshdns will not force it: ` +
            `check with "lsattr ${path}", remove the flag with "chattr -i ${path}", or set resolvConf.manage: "false"`
        : `${path} is ${attribute === 'i' ? 'immutable (chattr +i)' : 'append-only (chattr +a)'}; meshdns will not force it: ` +
            `remove the flag with "chattr -${attribute} ${path}" to let meshdns manage it, or set resolvConf.manage: "false"`,
    );
  }
}

/**
 * The file attribute flags `lsattr -d` prints for a path (e.g. "----i---------e-------"), or
 * undefined when lsattr is missing or the filesystem has no attributes. No ioctl from Node needed.
 */
export function readFileAttributes(path: string): Promise<string | undefined> {
  return new Promise((resolvePromise) => {
    execFile('lsattr', ['-d', path], { timeout: 2000 }, (err, stdout) => {
      if (err !== null) {
        resolvePromise(undefined);
        return;
      }
      resolvePromise(stdout.trim().split(/\s+/)[0]);
    });
  });
}

/**
 * Turn an EPERM from writing/renaming over `path` into an ImmutableFileError when lsattr shows
 * the `i` or `a` flag (or cannot tell: EPERM for root on a file is almost always that flag).
 */
export async function explainPermissionError(path: string, err: unknown): Promise<Error> {
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== 'EPERM') return err as Error;
  const flags = await readFileAttributes(path);
  if (flags === undefined) return new ImmutableFileError(path, 'unknown');
  if (flags.includes('i')) return new ImmutableFileError(path, 'i');
  if (flags.includes('a')) return new ImmutableFileError(path, 'a');
  return err as Error;
}
