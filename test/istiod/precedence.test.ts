// File sources beside istiod (docs/DECISIONS.md "istiod precedence"): a hosts-file pin wins over
// istiod; istiod's entry wins over a registry.d record for the same host (not merged: one address
// set); the other names of both are served.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { FakeNameInfo } from '../support/fakeIstiod';
import { makeWorld, startMeshdns, type Running, type World } from './world';

let world: World;
let meshdns: Running;

test('hosts pin > istiod > registry.d; the rest of both served', async () => {
  world = await makeWorld();
  writeFileSync(join(world.dir, 'registry.d', 'pins.hosts'), '192.0.2.50 pinned.vm-ns.svc.cluster.local\n');
  writeFileSync(
    join(world.dir, 'registry.d', 'svc.yaml'),
    'apiVersion: v1\nkind: Service\nmetadata: {name: both, namespace: vm-ns}\nspec: {clusterIP: 10.1.1.1, ports: [{port: 80}]}\n---\n' +
      'apiVersion: v1\nkind: Service\nmetadata: {name: fileonly, namespace: vm-ns}\nspec: {clusterIP: 10.1.1.2, ports: [{port: 80}]}\n---\n' +
      'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: se, namespace: vm-ns}\nspec: {hosts: [shared.example, other.example], addresses: [240.240.9.9]}\n',
  );
  const k8s = (name: string, ip: string): [string, FakeNameInfo] => [`${name}.vm-ns.svc.cluster.local`, { ips: [ip], registry: 'Kubernetes', shortname: name, namespace: 'vm-ns' }];
  world.istiod.setCurrent(Object.fromEntries([k8s('pinned', '10.96.1.1'), k8s('both', '10.96.1.2'), k8s('istiodonly', '10.96.1.3'), ['shared.example', { ips: ['10.96.1.9'] }]]));
  meshdns = await startMeshdns(world);
  try {
    await world.istiod.until(() => world.istiod.requests.find((r) => r.nonce !== ''), 'the ACK');
    assert.equal(await meshdns.a('pinned.vm-ns.svc.cluster.local'), ['192.0.2.50'], 'the hosts pin wins');
    assert.equal(await meshdns.a('both.vm-ns.svc.cluster.local'), ['10.96.1.2'], "istiod's entry, not merged with the file's");
    assert.equal(await meshdns.a('both'), ['10.96.1.2']);
    assert.equal(await meshdns.a('shared.example'), ['10.96.1.9'], 'a ServiceEntry host istiod names');
    assert.equal(await meshdns.a('other.example'), ['240.240.9.9'], "the entry's other host stays");
    assert.equal(await meshdns.a('fileonly'), ['10.1.1.2']);
    assert.equal(await meshdns.a('istiodonly'), ['10.96.1.3']);
  } finally {
    await meshdns.stop();
    await world.close();
  }
});

test.run();
