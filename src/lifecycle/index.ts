/** The running service's collaborators (docs/ARCHITECTURE.md §5): service.ts wires them. */
export { ReloadLoop, type ReloadLoopOptions } from './reloadLoop';
export { VipStateSaver, type VipStateSaverOptions } from './vipStateSaver';
export { ProblemLog, type ProblemSink } from './problemLog';
export { UpstreamSelection, chooseUpstreamsFor, type UpstreamLog } from './upstreamSelection';
export { ResolvConfCapture, type CaptureState, type CaptureStatus, type CaptureLog } from './resolvConfCapture';
export { restartNeeded, watchTargets, forwardTimeoutMs, forwardAttempts } from './settingsAtStart';
export { ReloadHistory, type ReloadSummary } from './reloadHistory';
export { statusReport, tableSources, type StatusParts } from './statusReport';
export { QueryLog } from './queryLog';
