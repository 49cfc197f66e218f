import { spawn } from 'node:child_process';
import { notifyArgv, watchdogIntervalMs, type NotifyFields } from './message';

/**
 * sd_notify for Node, through the `systemd-notify` binary: Node has no AF_UNIX datagram
 * sockets, and systemd-notify (systemd ≥ 246) waits until PID 1 has processed each message, so
 * none is lost when the short-lived sender exits. Messages go out one at a time, in order
 * (RELOADING=1 must never overtake the READY=1 before it). Without $NOTIFY_SOCKET every call
 * is a no-op, so `meshdns run` behaves the same outside systemd.
 */

/** Runs `systemd-notify ARGS`; resolves with an error text instead of throwing. */
export type NotifyRunner = (argv: string[], env: NodeJS.ProcessEnv) => Promise<string | undefined>;

export interface SystemdNotifierOptions {
  env?: NodeJS.ProcessEnv;
  pid?: number;
  /** Default: spawn the `systemd-notify` binary found on PATH. */
  run?: NotifyRunner;
  /** Told once per distinct failure (a missing binary must not flood the journal). */
  onError?: (message: string) => void;
}

const SEND_TIMEOUT_MS = 10_000;

/** The real runner: `systemd-notify` with a timeout, stderr kept for the error text. */
export const spawnSystemdNotify: NotifyRunner = (argv, env) =>
  new Promise((resolve) => {
    let stderr = '';
    let settled = false;
    const done = (error: string | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(error);
    };
    const child = spawn('systemd-notify', argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done(`systemd-notify ${argv.join(' ')} did not finish within ${SEND_TIMEOUT_MS} ms`);
    }, SEND_TIMEOUT_MS);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => done(`cannot run systemd-notify (install systemd, or run without $NOTIFY_SOCKET): ${err.message}`));
    child.on('close', (code) =>
      done(code === 0 ? undefined : `systemd-notify ${argv.join(' ')} exited ${code}: ${stderr.trim()}`),
    );
  });

export class SystemdNotifier {
  readonly enabled: boolean;
  private readonly env: NodeJS.ProcessEnv;
  private readonly pid: number;
  private readonly run: NotifyRunner;
  private readonly onError: (message: string) => void;
  private queue: Promise<void> = Promise.resolve();
  private lastError: string | undefined;
  private watchdogTimer: NodeJS.Timeout | undefined;
  private pingPending = false;

  constructor(options: SystemdNotifierOptions = {}) {
    this.env = options.env ?? process.env;
    this.pid = options.pid ?? process.pid;
    this.run = options.run ?? spawnSystemdNotify;
    this.onError = options.onError ?? (() => undefined);
    this.enabled = (this.env.NOTIFY_SOCKET ?? '') !== '';
  }

  /** Send `fields` after every message queued before; resolves once systemd has it (or it failed). */
  notify(fields: NotifyFields): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    const argv = notifyArgv(fields, this.pid);
    if (argv.length === 1) return Promise.resolve();
    const send = async (): Promise<void> => {
      const error = await this.run(argv, this.env);
      if (error !== undefined && error !== this.lastError) this.onError(error);
      this.lastError = error;
    };
    this.queue = this.queue.then(send, send);
    return this.queue;
  }

  /** The ping interval when systemd set a watchdog for this process, else undefined. */
  get watchdogIntervalMs(): number | undefined {
    return this.enabled ? watchdogIntervalMs(this.env, this.pid) : undefined;
  }

  /**
   * Ping the watchdog from the event loop at half of WatchdogSec. A blocked loop runs no timer,
   * sends no ping, and systemd kills and restarts the service: that is the point. A ping still
   * in flight is not doubled up. Returns whether a watchdog is active.
   */
  startWatchdog(): boolean {
    const interval = this.watchdogIntervalMs;
    if (interval === undefined || this.watchdogTimer !== undefined) return this.watchdogTimer !== undefined;
    const ping = (): void => {
      if (this.pingPending) return;
      this.pingPending = true;
      void this.notify({ watchdog: true }).finally(() => {
        this.pingPending = false;
      });
    };
    this.watchdogTimer = setInterval(ping, interval);
    // The pings must not keep a stopping process alive.
    this.watchdogTimer.unref();
    ping();
    return true;
  }

  stopWatchdog(): void {
    if (this.watchdogTimer !== undefined) clearInterval(this.watchdogTimer);
    this.watchdogTimer = undefined;
  }
}
