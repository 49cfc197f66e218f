// The upstream socket pool's tests again, on Node's dgram sockets (the fallback engine, and the
// one used for scoped IPv6 upstreams).
process.env.POOL_ENGINE = 'node';
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('./udpSocketPool.test');
