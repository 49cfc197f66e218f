// The pure parser lives in config/ (inputs/ reads it too); re-exported for this folder's users.
export { parseResolvConf, normalizedSearchDomains } from '../../config/resolvConf';
export type { ResolvConf } from '../../config/resolvConf';
export { chooseUpstreams, RESOLVED_STUB, RESOLVED_UPLINKS_FILE } from './upstreams';
export type { UpstreamChoice } from './upstreams';
export { ResolvConfManager } from './manager';
export type { ResolvConfManagerOptions, ManagerLog, RecoveryResult, RestoreResult, ChangeResult } from './manager';
export { ImmutableFileError, readFileAttributes } from './immutable';
export { OUR_MARKER, isOurResolvConf, nameserverFor, renderOurResolvConf } from './render';
export { CAPTURE_MARKER_FILE, ORIGINAL_COPY_FILE, CaptureStateStore } from './state';
export type { CaptureMarker, SavedOriginal } from './state';
export { readFileState } from './fileState';
export type { FileState } from './fileState';
