import http from 'node:http';
import type { MeshDnsMetrics } from './metrics';

export interface HealthSource {
  /** The process is alive and its event loop turns. */
  alive(): boolean;
  /** Serving, and (when capture is on) resolv.conf captured. */
  ready(): { ready: boolean; reason: string };
  /** A JSON-able summary for `meshdns status`. */
  status(): unknown;
}

export interface MetricsServer {
  readonly address: string;
  close(): Promise<void>;
}

/** Split "host:port" / "[v6]:port". */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (m === null) return undefined;
  return { host: m[1], port: Number(m[2]) };
}

/**
 * `/metrics` (Prometheus text), `/healthz`, `/readyz` and `/status` (JSON). It never affects
 * serving: it is cheap, binds loopback by default, and a bind failure is reported by the caller
 * as a warning (this returns the error instead of throwing).
 */
export async function startMetricsServer(address: string, metrics: MeshDnsMetrics, health: HealthSource): Promise<MetricsServer | Error> {
  const hp = parseHostPort(address);
  if (hp === undefined) return new Error(`metrics: "${address}" is not host:port`);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, type: string, body: string): void => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'only GET\n');
    switch (path) {
      case '/metrics':
        metrics.text().then(
          (body) => send(200, metrics.contentType, body),
          (err: Error) => send(500, 'text/plain', `${err.message}\n`),
        );
        return;
      case '/healthz':
        return health.alive() ? send(200, 'text/plain', 'ok\n') : send(503, 'text/plain', 'not alive\n');
      case '/readyz': {
        const r = health.ready();
        return send(r.ready ? 200 : 503, 'text/plain', `${r.reason}\n`);
      }
      case '/status':
        return send(200, 'application/json', JSON.stringify(health.status()) + '\n');
      default:
        return send(404, 'text/plain', 'not found: try /metrics, /healthz, /readyz, /status\n');
    }
  });
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 5000;
  server.requestTimeout = 10000;
  return new Promise((resolve) => {
    server.once('error', (err) => resolve(new Error(`metrics: cannot listen on ${address}: ${err.message}`)));
    server.listen({ host: hp.host, port: hp.port }, () => {
      server.removeAllListeners('error');
      server.on('error', () => undefined);
      const a = server.address();
      const bound = typeof a === 'object' && a !== null ? (a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`) : address;
      resolve({
        address: bound,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections?.();
          }),
      });
    });
  });
}
