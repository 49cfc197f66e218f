// Issue 19: what a running service may never need is not loaded. With `metrics: ""` nobody can
// read a metric, so prom-client (and its default-metrics timer) and the HTTP server stay unloaded.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startHarness } from '../support/harness';

const loaded = (pattern: RegExp): string[] => Object.keys(require.cache).filter((p) => pattern.test(p));
const PROM = /[\\/]node_modules[\\/]prom-client[\\/]/;
const METRICS_SERVER = /[\\/]system[\\/]metrics[\\/]server\.[jt]s$/;

test('metrics off: prom-client and the metrics HTTP server are never loaded; on: both are', async () => {
  const off = await startHarness({ resolvConf: 'nameserver 127.0.0.1\n', settings: 'upstreams: ["127.0.0.1:9"]\n' });
  try {
    assert.equal(loaded(PROM), [], 'prom-client loaded with metrics off');
    assert.equal(loaded(METRICS_SERVER), [], 'metrics server loaded with metrics off');
  } finally {
    await off.stop();
  }
  const on = await startHarness({ resolvConf: 'nameserver 127.0.0.1\n', settings: 'upstreams: ["127.0.0.1:9"]\nmetrics: "127.0.0.1:0"\n' });
  try {
    assert.ok(loaded(PROM).length > 0, 'prom-client loaded with metrics on');
    assert.ok(loaded(METRICS_SERVER).length > 0);
    assert.match(on.service.metricsAddress, /^127\.0\.0\.1:\d+$/);
  } finally {
    await on.stop();
  }
});

test.run();
