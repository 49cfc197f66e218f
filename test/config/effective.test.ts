import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BootstrapValues, parseSettings, resolveEffectiveConfig, shouldManageResolvConf } from '../../src/config';

type Row = {
  name: string;
  settings: string;
  clusterEnv?: BootstrapValues;
  mesh?: BootstrapValues;
  expect: { namespace: string; dnsCapture: boolean; autoAllocate: boolean; manage: boolean };
};

const ROWS: Row[] = [
  { name: 'nothing anywhere: default namespace, capture on, allocation on', settings: '', expect: { namespace: 'default', dnsCapture: true, autoAllocate: true, manage: true } },
  { name: 'cluster.env namespace used', settings: '', clusterEnv: { namespace: 'env-ns' }, expect: { namespace: 'env-ns', dnsCapture: true, autoAllocate: true, manage: true } },
  { name: 'mesh namespace used when cluster.env has none', settings: '', clusterEnv: {}, mesh: { namespace: 'mesh-ns' }, expect: { namespace: 'mesh-ns', dnsCapture: true, autoAllocate: true, manage: true } },
  { name: 'cluster.env namespace beats mesh', settings: '', clusterEnv: { namespace: 'env-ns' }, mesh: { namespace: 'mesh-ns' }, expect: { namespace: 'env-ns', dnsCapture: true, autoAllocate: true, manage: true } },
  { name: 'settings namespace beats both', settings: 'namespace: file-ns', clusterEnv: { namespace: 'env-ns' }, mesh: { namespace: 'mesh-ns' }, expect: { namespace: 'file-ns', dnsCapture: true, autoAllocate: true, manage: true } },
  { name: 'settings namespace "" defers to cluster.env', settings: 'namespace: ""', clusterEnv: { namespace: 'env-ns' }, expect: { namespace: 'env-ns', dnsCapture: true, autoAllocate: true, manage: true } },
  { name: 'broken settings namespace defers to cluster.env', settings: 'namespace: BAD', clusterEnv: { namespace: 'env-ns' }, expect: { namespace: 'env-ns', dnsCapture: true, autoAllocate: true, manage: true } },
  { name: 'capture off in cluster.env: auto does not manage resolv.conf', settings: '', clusterEnv: { dnsCapture: false }, expect: { namespace: 'default', dnsCapture: false, autoAllocate: true, manage: false } },
  { name: 'capture off in mesh only', settings: '', mesh: { dnsCapture: false }, expect: { namespace: 'default', dnsCapture: false, autoAllocate: true, manage: false } },
  { name: 'cluster.env capture beats mesh capture', settings: '', clusterEnv: { dnsCapture: true }, mesh: { dnsCapture: false }, expect: { namespace: 'default', dnsCapture: true, autoAllocate: true, manage: true } },
  { name: 'manage true overrides capture off', settings: 'resolvConf: {manage: true}', clusterEnv: { dnsCapture: false }, expect: { namespace: 'default', dnsCapture: false, autoAllocate: true, manage: true } },
  { name: 'manage false overrides capture on', settings: 'resolvConf: {manage: false}', clusterEnv: { dnsCapture: true }, expect: { namespace: 'default', dnsCapture: true, autoAllocate: true, manage: false } },
  { name: 'auto-allocate off in cluster.env', settings: '', clusterEnv: { dnsAutoAllocate: false }, expect: { namespace: 'default', dnsCapture: true, autoAllocate: false, manage: true } },
  { name: 'auto-allocate off in mesh only', settings: '', mesh: { dnsAutoAllocate: false }, expect: { namespace: 'default', dnsCapture: true, autoAllocate: false, manage: true } },
  { name: 'cluster.env auto-allocate beats mesh', settings: '', clusterEnv: { dnsAutoAllocate: true }, mesh: { dnsAutoAllocate: false }, expect: { namespace: 'default', dnsCapture: true, autoAllocate: true, manage: true } },
  { name: 'explicit autoAllocate true beats cluster.env false', settings: 'autoAllocate: true', clusterEnv: { dnsAutoAllocate: false }, expect: { namespace: 'default', dnsCapture: true, autoAllocate: true, manage: true } },
  { name: 'explicit autoAllocate false beats mesh true', settings: 'autoAllocate: false', mesh: { dnsAutoAllocate: true }, expect: { namespace: 'default', dnsCapture: true, autoAllocate: false, manage: true } },
  { name: 'default autoAllocate (not explicit) does not beat cluster.env', settings: 'ttl: 5', clusterEnv: { dnsAutoAllocate: false }, expect: { namespace: 'default', dnsCapture: true, autoAllocate: false, manage: true } },
];

for (const row of ROWS) {
  test(`precedence: ${row.name}`, () => {
    const settings = parseSettings(row.settings, 'm.yaml').value;
    const cfg = resolveEffectiveConfig(settings, row.clusterEnv, row.mesh);
    assert.equal(
      { namespace: cfg.namespace, dnsCapture: cfg.dnsCapture, autoAllocate: cfg.autoAllocate, manage: shouldManageResolvConf(cfg) },
      row.expect,
    );
    assert.is(cfg.settings, settings);
  });
}

test.run();
