// The fake istiod as a program (for the systemd container test, where it runs inside the
// container beside the installed meshdns): `node fakeIstiodMain.js DIR PORT`. DIR holds
// server.key, server.pem, token, table.json, cluster-id, and (optional) ca.key + root-cert.pem
// to serve CreateCertificate, istiod-version for control_plane.identifier; every request, refusal, certificate request and stream identity
// is written to DIR/seen.json as it happens.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeIstiod, type FakeTable } from './fakeIstiod';

async function main(): Promise<void> {
  const [dir, portText] = process.argv.slice(2);
  const read = (name: string): Buffer => readFileSync(join(dir, name));
  const istiod = new FakeIstiod({
    key: read('server.key'),
    cert: read('server.pem'),
    token: read('token').toString().trim(),
    clusterId: read('cluster-id').toString().trim(),
    nodeId: /^sidecar~[0-9a-f.:]+~[^~]+\.[a-z0-9-]+~[a-z0-9-]+\.svc\.cluster\.local$/,
    ...(existsSync(join(dir, 'ca.key')) ? { ca: { key: read('ca.key'), cert: read('root-cert.pem') } } : {}),
  });
  istiod.setCurrent(JSON.parse(read('table.json').toString()) as FakeTable);
  if (existsSync(join(dir, 'istiod-version'))) istiod.controlPlaneVersion = read('istiod-version').toString().trim();
  const port = await istiod.start(Number(portText));
  // Written aside and renamed: the test reads it while it is being rewritten.
  const save = (): void => {
    writeFileSync(join(dir, 'seen.json.tmp'), JSON.stringify({ requests: istiod.requests, refusals: istiod.refusals, certRequests: istiod.certRequests, peerIdentities: istiod.peerIdentities }));
    renameSync(join(dir, 'seen.json.tmp'), join(dir, 'seen.json'));
  };
  save();
  setInterval(save, 200);
  console.log(`fake istiod on 127.0.0.1:${port}`);
}

main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
