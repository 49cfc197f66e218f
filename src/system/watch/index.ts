export { InputWatcher, type WatchKind, type WatchTarget, type InputWatcherOptions } from './inputWatcher';
export type { WatchCounters } from './dirWatches';
export type { TreeRules } from './plan';
