import type { ListenAddress } from '../../config/types';
import { readFileState, stateText, type FileState } from './fileState';
import { parseResolvConf, type ResolvConf } from '../../config/resolvConf';
import { isOurResolvConf, nameserverFor, renderOurResolvConf } from './render';
import { removeFile, replaceFile, replaceWithSymlink } from './replace';
import { CaptureStateStore, savedContent, savedFromState, type CaptureMarker, type SavedOriginal } from './state';

/** The logging the manager needs (pino's Logger fits). */
export interface ManagerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ResolvConfManagerOptions {
  /** The resolv.conf to take over (settings resolvConf.path). */
  path: string;
  /** Where the original and the capture marker are kept (settings stateDir). */
  stateDir: string;
  log?: ManagerLog;
}

/** What recoverAtStart / `meshdns restore-resolv-conf` did. */
export type RecoveryResult =
  /** No capture marker: nothing to do. */
  | 'nothing'
  /** The file was still ours: the saved original is back. */
  | 'restored'
  /** Someone replaced our file while meshdns was down: theirs stays, the stale state is dropped. */
  | 'kept-current';

export type RestoreResult = 'restored' | 'not-ours' | 'not-captured';

/** What handleChange found on disk. */
export type ChangeResult =
  /** Still exactly what meshdns wrote. */
  | 'ours'
  /** Someone else wrote a new resolv.conf: it is the new original, and ours is written again. */
  | 'adopted'
  /** Our file was edited or deleted: written again, the original kept. */
  | 'rewritten'
  | 'not-captured';

const quiet: ManagerLog = { info: () => undefined, warn: () => undefined };

function describe(saved: SavedOriginal | FileState): string {
  if (saved.kind === 'symlink') return `symlink -> ${saved.linkText}`;
  return saved.kind === 'file' ? 'regular file' : 'absent';
}

/**
 * The resolv.conf lifecycle of docs/ARCHITECTURE.md §4: save the original (with mode and link state) before
 * any change, write ours atomically, follow rewrites by others, put the original back byte for
 * byte when meshdns stops — only while the file is still ours — and recover after a crash.
 * Every operation runs one at a time (a watcher event during stop must not interleave).
 */
export class ResolvConfManager {
  private readonly store: CaptureStateStore;
  private readonly log: ManagerLog;
  private marker: CaptureMarker | undefined;
  private lastWritten: string | undefined;
  /** The `nameserver` meshdns writes: its first listen address. */
  private nameserver = '';
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ResolvConfManagerOptions) {
    this.store = new CaptureStateStore(options.stateDir);
    this.log = options.log ?? quiet;
  }

  get path(): string {
    return this.options.path;
  }

  get stateDir(): string {
    return this.options.stateDir;
  }

  get captured(): boolean {
    return this.marker !== undefined;
  }

  get markerPath(): string {
    return this.store.markerPath;
  }

  /** The original resolv.conf, parsed: where upstreams and search domains come from while captured. */
  original(): ResolvConf | undefined {
    if (this.marker === undefined) return undefined;
    const content = savedContent(this.marker.original);
    return parseResolvConf(content?.toString('utf8') ?? '');
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * After a crash (a capture marker on disk that this process did not write): put the saved
   * original back when the file is still ours, else keep what is there. Never loses an original.
   */
  recoverAtStart(): Promise<RecoveryResult> {
    return this.serial(() => this.recover());
  }

  private async recover(): Promise<RecoveryResult> {
    const marker = await this.store.read();
    if (marker === undefined) return 'nothing';
    const current = await readFileState(marker.path);
    if (current.kind === 'file' && isTornRestore(current.content, marker)) {
      // Stopped while the original was being written back in place: finish it.
      await this.putBack(marker);
      await this.store.clear();
      this.log.info({ path: marker.path, original: describe(marker.original) }, 'resolv.conf: finished putting the original back after a stop cut short');
      return 'restored';
    }
    const text = current.kind === 'file' ? current.content.toString('utf8') : undefined;
    if (text !== undefined && isOurResolvConf(text)) {
      await this.putBackCommitted(marker, current);
      await this.store.clear();
      this.log.info({ path: marker.path, original: describe(marker.original), capturedAt: marker.capturedAt }, 'resolv.conf: put the original back after an unclean stop');
      return 'restored';
    }
    if (current.kind === 'absent' && marker.original.kind !== 'absent') {
      // Our file is gone and nobody wrote another: the saved original is the best there is.
      await this.putBackCommitted(marker, current);
      await this.store.clear();
      this.log.info({ path: marker.path, original: describe(marker.original) }, 'resolv.conf was missing after an unclean stop: put the original back');
      return 'restored';
    }
    await this.store.clear();
    this.log.warn({ path: marker.path, current: describe(current) }, 'resolv.conf was replaced while meshdns was not running: keeping the current file, dropping the old saved original');
    return 'kept-current';
  }

  /**
   * Take resolv.conf over, pointing it at `listen` (port 53 only). The original is saved to the
   * state dir first; a failed write (immutable file) removes that state again and throws.
   */
  capture(listen: ListenAddress | undefined): Promise<void> {
    return this.serial(async () => {
      if (this.marker !== undefined) return;
      const nameserver = nameserverFor(listen);
      this.nameserver = nameserver;
      // A marker left by an earlier run must be resolved first, or we would save our own file as the original.
      if ((await this.store.read()) !== undefined) await this.recover();
      const current = await readFileState(this.options.path);
      const text = stateText(current);
      if (current.kind === 'file' && text !== undefined && isOurResolvConf(text)) {
        throw new Error(
          `${this.options.path} was written by meshdns but ${this.store.markerPath} holds no saved original; ` +
            'put the original resolv.conf back by hand (it is not known), then restart meshdns',
        );
      }
      const marker: CaptureMarker = {
        version: 1,
        path: this.options.path,
        capturedAt: new Date().toISOString(),
        pid: process.pid,
        original: savedFromState(current),
      };
      await this.store.write(marker);
      try {
        await this.writeOurs(marker, text, current);
      } catch (err) {
        // resolv.conf is untouched: no state must claim otherwise.
        await this.store.clear().catch(() => undefined);
        throw err;
      }
      this.marker = marker;
      this.log.info({ path: this.options.path, nameserver, original: describe(current), saved: this.store.markerPath }, 'resolv.conf captured');
    }).then(() => undefined);
  }

  private async writeOurs(marker: CaptureMarker, originalText: string | undefined, current: FileState): Promise<void> {
    const ours = renderOurResolvConf(originalText, this.nameserver, this.options.stateDir);
    const mode = marker.original.kind === 'file' ? marker.original.mode : 0o644;
    const owner = current.kind === 'file' ? { mode, uid: current.uid, gid: current.gid } : { mode };
    await replaceFile(this.options.path, ours, owner);
    this.lastWritten = ours;
  }

  /** Put the original back (only if the file is still ours) and drop the saved state. */
  restore(): Promise<RestoreResult> {
    return this.serial(async (): Promise<RestoreResult> => {
      const marker = this.marker;
      if (marker === undefined) return 'not-captured';
      const current = await readFileState(marker.path);
      const text = current.kind === 'file' ? current.content.toString('utf8') : undefined;
      const ours = (text !== undefined && isOurResolvConf(text)) || (current.kind === 'absent' && marker.original.kind !== 'absent');
      if (ours) await this.putBackCommitted(marker, current);
      await this.store.clear();
      this.marker = undefined;
      this.lastWritten = undefined;
      if (ours) {
        this.log.info({ path: marker.path, original: describe(marker.original) }, 'resolv.conf: original put back');
        return 'restored';
      }
      this.log.warn({ path: marker.path, current: describe(current) }, 'resolv.conf is no longer ours (someone replaced it): left as it is');
      return 'not-ours';
    });
  }

  /** React to resolv.conf changing on disk (the watcher calls this). */
  handleChange(): Promise<ChangeResult> {
    return this.serial(async (): Promise<ChangeResult> => {
      const marker = this.marker;
      if (marker === undefined) return 'not-captured';
      const current = await readFileState(marker.path);
      const text = stateText(current);
      if (current.kind === 'file' && text === this.lastWritten) return 'ours';
      if (current.kind === 'absent' || (current.kind === 'file' && text !== undefined && isOurResolvConf(text))) {
        // Deleted, or our file edited: the original we hold is still the right one.
        await this.writeOurs(marker, savedContent(marker.original)?.toString('utf8'), current.kind === 'absent' ? { kind: 'absent' } : current);
        this.log.warn({ path: marker.path, was: current.kind === 'absent' ? 'deleted' : 'edited' }, 'resolv.conf: our file was changed by someone else; written again');
        return 'rewritten';
      }
      const next: CaptureMarker = { ...marker, capturedAt: new Date().toISOString(), pid: process.pid, original: savedFromState(current) };
      await this.store.write(next);
      this.marker = next;
      await this.writeOurs(next, text, current);
      this.log.info({ path: marker.path, original: describe(current), nameservers: parseResolvConf(text ?? '').nameservers }, 'resolv.conf was rewritten by someone else: taken as the new original, ours written again');
      return 'adopted';
    });
  }

  /** `putBack`, with the marker saying so first, and what it replaces (see CaptureMarker.restoring). */
  private async putBackCommitted(marker: CaptureMarker, current: FileState): Promise<void> {
    const replacingBase64 = current.kind === 'file' ? current.content.toString('base64') : undefined;
    await this.store.write({ ...marker, restoring: true, replacingBase64 });
    await this.putBack(marker);
  }

  private async putBack(marker: CaptureMarker): Promise<void> {
    const saved = marker.original;
    switch (saved.kind) {
      case 'file':
        await replaceFile(marker.path, Buffer.from(saved.contentBase64, 'base64'), { mode: saved.mode, uid: saved.uid, gid: saved.gid });
        return;
      case 'symlink':
        await replaceWithSymlink(marker.path, saved.linkText);
        return;
      case 'absent':
        await removeFile(marker.path);
        return;
    }
  }
}

/**
 * What an in-place write of the original over `replacing` leaves when cut short after the write
 * and before the truncate: the original, then the rest of what it replaced. Also the original
 * alone (the write finished; the marker was not cleared yet).
 */
function isTornRestore(content: Buffer, marker: CaptureMarker): boolean {
  if (marker.restoring !== true || marker.original.kind !== 'file' || marker.replacingBase64 === undefined) return false;
  const original = Buffer.from(marker.original.contentBase64, 'base64');
  if (content.equals(original)) return true;
  const replaced = Buffer.from(marker.replacingBase64, 'base64');
  return replaced.length > original.length && content.equals(Buffer.concat([original, replaced.subarray(original.length)]));
}
