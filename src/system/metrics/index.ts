export { MeshDnsMetrics, classifyOutcome } from './metrics';
export type { MetricsSource } from './metrics';
export { startMetricsServer, parseHostPort } from './server';
export type { HealthSource, MetricsServer } from './server';
