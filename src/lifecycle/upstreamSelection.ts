import { promises as fs } from 'node:fs';
import type { ListenAddress, Upstream } from '../config/types';
import { formatHostPort } from '../config/hostPort';
import { parseResolvConf, type ResolvConf } from '../config/resolvConf';
import { chooseUpstreams, type UpstreamChoice } from '../system/resolvconf';
import { LoopDetector } from '../dns/loopProbe';
import type { Snapshot } from '../inputs';

/** The log calls an UpstreamSelection makes (pino's shape). */
export interface UpstreamLog {
  info(message: string): void;
  error(fields: object, message: string): void;
}

async function readResolvConf(path: string): Promise<ResolvConf | undefined> {
  try {
    return parseResolvConf(await fs.readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The upstreams a reload's inputs name (docs/ARCHITECTURE.md §3–4), read from the files now. */
export async function chooseUpstreamsFor(snap: Snapshot, listen: readonly ListenAddress[], resolvedUplinksFile: string): Promise<UpstreamChoice> {
  const uplinks = await readResolvConf(resolvedUplinksFile);
  return chooseUpstreams(snap.settings.upstreams, snap.resolvConf, uplinks, listen);
}

/**
 * The upstreams in use: the list a reload chose, and the ones forwarded to — that list less
 * those the loop probe caught forwarding back to meshdns. A new list starts the probe over
 * (once serving: the probe must reach our listener to prove a loop); the notes on why some
 * nameservers were not used are logged when they change.
 */
export class UpstreamSelection {
  readonly loops: LoopDetector;
  private list: Upstream[] = [];
  private forwarding: Upstream[] = [];
  private lastNotes = '';

  constructor(private readonly log: UpstreamLog) {
    this.loops = new LoopDetector((upstream) => {
      this.forwarding = this.list.filter((u) => !this.loops.isLooping(u));
      log.error(
        { upstream: formatHostPort(upstream) },
        `upstream ${formatHostPort(upstream)} forwards queries back to meshdns (a loop): not used; point it elsewhere or set upstreams: in meshdns.yaml`,
      );
    });
  }

  /** The chosen list (status, logs). */
  get upstreams(): readonly Upstream[] {
    return this.list;
  }

  /** What the forwarder asks per query. */
  readonly forwardTo = (): Upstream[] => this.forwarding;

  /** Swap in a reload's choice; `serving`: the listeners are up, so a new list is probed at once. */
  use(choice: UpstreamChoice, serving: boolean): void {
    const changed = choice.upstreams.map(formatHostPort).join(',') !== this.list.map(formatHostPort).join(',');
    this.list = choice.upstreams;
    if (!changed) return;
    this.loops.reset();
    this.forwarding = this.list;
    if (serving) this.loops.probe(this.list);
  }

  /** Log the choice's notes unless they are the ones logged last. */
  noteChoice(choice: UpstreamChoice): void {
    const notes = choice.notes.join('\n');
    if (notes !== this.lastNotes) for (const note of choice.notes) this.log.info(note);
    this.lastNotes = notes;
  }

  /** Probe the current list (the service calls it once its listeners are up). */
  probe(): void {
    this.loops.probe(this.list);
  }
}
