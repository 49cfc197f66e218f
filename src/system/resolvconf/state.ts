import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { replaceFile } from './replace';
import type { FileState } from './fileState';

/**
 * The capture marker in the state dir: everything needed to put the original back, written
 * atomically BEFORE resolv.conf is touched. Its presence means "resolv.conf may be ours":
 * a crash leaves it behind for the next start or `meshdns restore-resolv-conf`.
 */
export const CAPTURE_MARKER_FILE = 'resolv-capture.json';
/** A readable copy of the original's bytes, for humans (the marker is the authority). */
export const ORIGINAL_COPY_FILE = 'resolv.conf.orig';

export type SavedOriginal =
  | { kind: 'file'; mode: number; uid: number; gid: number; contentBase64: string }
  | { kind: 'symlink'; linkText: string; target: string; contentBase64?: string }
  | { kind: 'absent' };

export interface CaptureMarker {
  version: 1;
  /** The resolv.conf path meshdns took over (restore goes there even if settings changed since). */
  path: string;
  capturedAt: string;
  pid: number;
  original: SavedOriginal;
  /**
   * Set (atomically, in the marker) just before the original is written back, with the bytes it
   * replaces (base64). Where resolv.conf must be written in place (a bind-mounted file), a kill
   * between the write and the truncate leaves the original's bytes over the start of ours and
   * the rest of ours after them: neither file. A start or `restore-resolv-conf` that finds
   * exactly that (or the original) finishes the job; anything else is someone else's file.
   */
  restoring?: boolean;
  replacingBase64?: string;
}

export function savedFromState(state: FileState): SavedOriginal {
  switch (state.kind) {
    case 'file':
      return { kind: 'file', mode: state.mode, uid: state.uid, gid: state.gid, contentBase64: state.content.toString('base64') };
    case 'symlink':
      return { kind: 'symlink', linkText: state.linkText, target: state.target, contentBase64: state.content?.toString('base64') };
    case 'absent':
      return { kind: 'absent' };
  }
}

/** The bytes glibc read through the original (a symlink's target content), if any. */
export function savedContent(saved: SavedOriginal): Buffer | undefined {
  if (saved.kind === 'absent' || saved.contentBase64 === undefined) return undefined;
  return Buffer.from(saved.contentBase64, 'base64');
}

function isSavedOriginal(v: unknown): v is SavedOriginal {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  if (o.kind === 'absent') return true;
  if (o.kind === 'file') return typeof o.mode === 'number' && typeof o.contentBase64 === 'string';
  if (o.kind === 'symlink') return typeof o.linkText === 'string' && typeof o.target === 'string';
  return false;
}

export class CaptureStateStore {
  constructor(readonly stateDir: string) {}

  get markerPath(): string {
    return join(this.stateDir, CAPTURE_MARKER_FILE);
  }

  get copyPath(): string {
    return join(this.stateDir, ORIGINAL_COPY_FILE);
  }

  /** The marker, undefined when there is none. A damaged marker throws: never guess about an original. */
  async read(): Promise<CaptureMarker | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.markerPath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new Error(`${this.markerPath} is damaged (${(err as Error).message}); the original resolv.conf may be in ${this.copyPath}: put it back by hand, then delete ${this.markerPath}`);
    }
    const m = parsed as Partial<CaptureMarker>;
    if (m.version !== 1 || typeof m.path !== 'string' || !isSavedOriginal(m.original)) {
      throw new Error(`${this.markerPath} is not a meshdns capture marker (version 1); put the original resolv.conf back by hand, then delete it`);
    }
    return m as CaptureMarker;
  }

  /** Save atomically: the readable copy first, then the marker (the marker is the commit point). */
  async write(marker: CaptureMarker): Promise<void> {
    await fs.mkdir(this.stateDir, { recursive: true, mode: 0o755 });
    const content = savedContent(marker.original);
    if (content !== undefined) await replaceFile(this.copyPath, content, { mode: 0o600 });
    else await fs.rm(this.copyPath, { force: true });
    await replaceFile(this.markerPath, JSON.stringify(marker, null, 2) + '\n', { mode: 0o600 });
  }

  /** Remove the marker (the commit point) first, then the copy. */
  async clear(): Promise<void> {
    await fs.rm(this.markerPath, { force: true });
    await fs.rm(this.copyPath, { force: true });
  }
}
