/**
 * The sd_notify(3) message, as pure functions: which fields to send, how they go on the
 * `systemd-notify` command line, and when the service manager wants watchdog pings.
 */

/** The sd_notify fields meshdns sends. Unset fields are not sent. */
export interface NotifyFields {
  /** Startup finished, or a reload finished (after RELOADING=1). */
  ready?: boolean;
  /** A reload started; systemd ≥ 253 also wants MONOTONIC_USEC with it. */
  reloading?: boolean;
  /** Shutdown started. */
  stopping?: boolean;
  /** One ping of the service watchdog. */
  watchdog?: boolean;
  /** Free-form one-line status (`systemctl status` shows it). */
  status?: string;
  /** CLOCK_MONOTONIC in µs, sent with RELOADING=1 so newer systemd can order the reload. */
  monotonicUsec?: bigint;
}

/** STATUS is one line: control characters and newlines become spaces, long text is cut. */
export function oneLine(text: string, max = 200): string {
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** The `KEY=value` assignments for `fields`, in the order systemd should read them. */
export function notifyAssignments(fields: NotifyFields): string[] {
  const out: string[] = [];
  if (fields.reloading === true) out.push('RELOADING=1');
  if (fields.monotonicUsec !== undefined) out.push(`MONOTONIC_USEC=${fields.monotonicUsec}`);
  if (fields.stopping === true) out.push('STOPPING=1');
  if (fields.ready === true) out.push('READY=1');
  if (fields.watchdog === true) out.push('WATCHDOG=1');
  if (fields.status !== undefined) out.push(`STATUS=${oneLine(fields.status)}`);
  return out;
}

/**
 * argv for the `systemd-notify` binary. `--pid` names the main process, so systemd attributes
 * the message to it (the unit needs NotifyAccess=all: the sender is the short-lived child).
 */
export function notifyArgv(fields: NotifyFields, mainPid: number): string[] {
  return [`--pid=${mainPid}`, ...notifyAssignments(fields)];
}

/**
 * sd_watchdog_enabled(3): the ping interval in ms (half of WATCHDOG_USEC, as systemd advises),
 * or undefined when no watchdog is set for this process (unset/invalid WATCHDOG_USEC, or
 * WATCHDOG_PID naming another process).
 */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  const usecText = env.WATCHDOG_USEC;
  if (usecText === undefined || !/^\d+$/.test(usecText)) return undefined;
  const usec = Number(usecText);
  if (!Number.isSafeInteger(usec) || usec <= 0) return undefined;
  const pidText = env.WATCHDOG_PID;
  if (pidText !== undefined && pidText !== '') {
    if (!/^\d+$/.test(pidText) || Number(pidText) !== pid) return undefined;
  }
  return Math.max(1, Math.floor(usec / 2000));
}

/** What the STATUS line summarizes. */
export interface StatusSummary {
  names: number;
  upstreams: readonly string[];
  lastReload?: { at: Date; added: number; removed: number; changed: number; errors: number };
  /** The istiod table's state while istiod is on (src/istiod/); absent while off. */
  istiod?: { state: 'live' | 'stale' | 'never'; at?: Date };
}

function clock(at: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
}

/**
 * The istiod part: `istiod live, last push 12:01:02`, `istiod stale since 12:01:02`, `istiod
 * never received`. Clock times, not "12 s ago": the line changes only when the state does, so
 * systemd is not sent a new STATUS= every few seconds (docs/DECISIONS.md).
 */
export function formatIstiodStatus(i: NonNullable<StatusSummary['istiod']>): string {
  if (i.state === 'live') return i.at === undefined ? 'istiod live' : `istiod live, last push ${clock(i.at)}`;
  if (i.state === 'stale') return i.at === undefined ? 'istiod stale' : `istiod stale since ${clock(i.at)}`;
  return 'istiod never received';
}

/**
 * e.g. "serving 12 names; istiod live, last push 12:00:58; upstreams 10.0.0.2:53; last reload
 * 12:01:02 +1 -0 ~0, 0 errors". istiod comes before the upstreams: a long upstream list is what
 * the 200-character cut takes.
 */
export function formatStatus(s: StatusSummary): string {
  const ups = s.upstreams.length === 0 ? 'no upstreams' : `upstreams ${s.upstreams.join(' ')}`;
  const r = s.lastReload;
  const reload =
    r === undefined
      ? 'not loaded yet'
      : `last reload ${clock(r.at)} +${r.added} -${r.removed} ~${r.changed}, ${r.errors} error${r.errors === 1 ? '' : 's'}`;
  const istiod = s.istiod === undefined ? '' : `; ${formatIstiodStatus(s.istiod)}`;
  return oneLine(`serving ${s.names} name${s.names === 1 ? '' : 's'}${istiod}; ${ups}; ${reload}`);
}
