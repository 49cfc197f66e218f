import { formatHostPort } from './config/hostPort';
import { MeshDnsService } from './service';
import { SystemdNotifier, formatStatus, type StatusSummary } from './system/sdnotify';

/** The STATUS= summary for systemd, from what the service reports. */
function statusSummary(service: MeshDnsService): StatusSummary {
  const last = service.lastReload;
  const istiod = service.istiod.summary();
  return {
    ...(istiod === undefined ? {} : { istiod }),
    names: service.table?.size ?? 0,
    upstreams: service.upstreams.map(formatHostPort),
    lastReload:
      last === undefined
        ? undefined
        : {
            at: new Date(last.at),
            added: last.summary.added,
            removed: last.summary.removed,
            changed: last.summary.changed,
            errors: last.summary.problems.filter((p) => p.severity !== 'warning').length,
          },
  };
}

/** How often STATUS= is refreshed when a file-watch reload changed it (no-op outside systemd). */
const STATUS_REFRESH_MS = 5000;

/**
 * `meshdns run`: start, then live until SIGTERM/SIGINT; SIGHUP re-reads everything.
 * Under systemd (Type=notify): READY=1 once start() returned (listeners bound, inputs read,
 * resolv.conf captured), STATUS= one line, WATCHDOG=1 from the event loop, RELOADING=1/READY=1
 * around a SIGHUP reload, STOPPING=1 on shutdown.
 */
export async function runService(settingsFile: string): Promise<number> {
  // istiod's state changes between reloads (a push, a lost stream): STATUS= follows at once.
  let refreshStatus: () => void = () => undefined;
  const service = new MeshDnsService({ settingsFile, onStatusChange: () => refreshStatus() });
  const systemd = new SystemdNotifier({ onError: (message) => service.log.warn(message) });

  // Signal handlers go in before anything starts: a SIGTERM or SIGHUP while starting (after
  // resolv.conf may already be captured) must not take the default action and exit without
  // restoring it. During the start they are only remembered and acted on once it finished.
  let started = false;
  let stopRequested: string | undefined;
  let reloadRequested = false;
  let onStop: (signal: string) => void = (signal) => {
    stopRequested ??= signal;
  };
  let onReload: () => void = () => {
    reloadRequested = true;
  };
  process.on('SIGTERM', () => onStop('SIGTERM'));
  process.on('SIGINT', () => onStop('SIGINT'));
  process.on('SIGHUP', () => onReload());
  process.on('SIGUSR2', () => {
    if (started) service.toggleDebug();
  });

  try {
    await service.start();
  } catch (err) {
    service.log.fatal({ err }, (err as Error).message);
    await systemd.notify({ status: `failed to start: ${(err as Error).message}` });
    await service.stop().catch(() => undefined);
    return 1;
  }
  started = true;
  let lastStatus = formatStatus(statusSummary(service));
  await systemd.notify({ ready: true, status: lastStatus });
  if (systemd.startWatchdog()) service.log.info({ intervalMs: systemd.watchdogIntervalMs }, 'systemd watchdog pings on');
  refreshStatus = (): void => {
    const now = formatStatus(statusSummary(service));
    if (now === lastStatus) return;
    lastStatus = now;
    void systemd.notify({ status: now });
  };
  const statusTimer = setInterval(() => refreshStatus(), STATUS_REFRESH_MS);
  statusTimer.unref();
  return new Promise<number>((resolve) => {
    let stopping = false;
    onStop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      clearInterval(statusTimer);
      refreshStatus = () => undefined;
      systemd.stopWatchdog();
      service.log.info({ signal }, 'stopping');
      systemd
        .notify({ stopping: true, status: `stopping (${signal})` })
        .then(() => service.stop())
        .then(
          () => resolve(0),
          (err) => {
            service.log.error({ err }, 'error while stopping');
            resolve(1);
          },
        );
    };
    onReload = (): void => {
      if (stopping) return;
      const reloaded = systemd
        .notify({ reloading: true, monotonicUsec: process.hrtime.bigint() / 1000n, status: 'reloading (SIGHUP)' })
        .then(() => service.reload('SIGHUP', { force: true }))
        .catch((err) => service.log.error({ err }, 'reload failed; the previous table stays in use'));
      // READY=1 ends the reload for systemd whether it worked or not (the old table serves on).
      void reloaded.then(() => {
        lastStatus = formatStatus(statusSummary(service));
        return systemd.notify({ ready: true, status: lastStatus });
      });
    };
    // What arrived while starting.
    if (stopRequested !== undefined) onStop(stopRequested);
    else if (reloadRequested) onReload();
  });
}
