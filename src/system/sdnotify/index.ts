export { SystemdNotifier, spawnSystemdNotify } from './notifier';
export type { NotifyRunner, SystemdNotifierOptions } from './notifier';
export { formatIstiodStatus, formatStatus, notifyArgv, notifyAssignments, oneLine, watchdogIntervalMs } from './message';
export type { NotifyFields, StatusSummary } from './message';
