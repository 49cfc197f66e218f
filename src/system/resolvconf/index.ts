export { parseResolvConf, normalizedSearchDomains } from './parse';
export type { ResolvConf } from './parse';
export { chooseUpstreams, RESOLVED_STUB, RESOLVED_UPLINKS_FILE } from './upstreams';
export type { UpstreamChoice } from './upstreams';
