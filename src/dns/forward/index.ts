export { createForwardHandler } from './forwardHandler';
export type { ForwardHandler, ForwardOptions, ForwardStats, UpstreamOutcome, UpstreamStats } from './forwardHandler';
export { UdpSocketPool } from './udpSocketPool';
export type { UdpSocketPoolOptions, UdpSocketPoolStats } from './udpSocketPool';
export { tcpExchange } from './tcpExchange';
export type { ExchangeResult } from './exchange';
export { CoarseTimer } from './coarseTimer';
export type { TimerHandle } from './coarseTimer';
export { buildServfail, buildUpstreamQuery, shapeForClient } from './shape';
