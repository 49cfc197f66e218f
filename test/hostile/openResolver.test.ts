// Not an open resolver (issue 8). Default listen is loopback; a listen address beyond loopback
// without allowFrom is a start error naming the key; with allowFrom, sources outside it get
// REFUSED over UDP and TCP, sources inside (and loopback) are answered. Runs in private
// namespaces with two non-loopback addresses (10.200.0.1, .2) as the "network"; 127.0.0.0/8 is
// always allowed, so a second loopback address cannot play the outsider.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { rerunInNamespace } from '../support/namespace';
import { startMeshDnsProcess } from '../support/meshdnsProcess';
import { FUZZ_REGISTRY } from '../support/fuzzCampaign';
import { defaultSettings } from '../../src/config/settings';
import { decodeAnswer, encodeQuery, answerLines } from '../dns/client';

const NAME = 'productpage.vm-ns.svc.cluster.local';

function udpFrom(source: string, host: string, port: number): Promise<ReturnType<typeof decodeAnswer>> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error(`no answer from ${host}:${port} to ${source}`));
    }, 2000);
    sock.bind(0, source, () => sock.send(encodeQuery(NAME, 'A'), port, host));
    sock.on('message', (msg) => {
      clearTimeout(timer);
      sock.close();
      resolve(decodeAnswer(msg));
    });
  });
}

function tcpFrom(source: string, host: string, port: number): Promise<ReturnType<typeof decodeAnswer>> {
  return new Promise((resolve, reject) => {
    const q = encodeQuery(NAME, 'A');
    const frame = Buffer.concat([Buffer.from([q.length >> 8, q.length & 255]), q]);
    const conn = net.connect({ host, port, localAddress: source });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new Error('tcp timeout'));
    }, 2000);
    conn.on('connect', () => conn.write(frame));
    conn.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(timer);
        conn.destroy();
        resolve(decodeAnswer(buf.subarray(2, 2 + buf.readUInt16BE(0))));
      }
    });
    conn.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

if (!rerunInNamespace()) {
  test('setup: "network" addresses 10.200.0.1 and 10.200.0.2 (on the namespace\'s own lo)', () => {
    for (const args of [
      ['addr', 'add', '10.200.0.1/32', 'dev', 'lo'],
      ['addr', 'add', '10.200.0.2/32', 'dev', 'lo'],
    ]) {
      const r = spawnSync('ip', args, { encoding: 'utf8' });
      assert.is(r.status, 0, `ip ${args.join(' ')}: ${r.stderr}`);
    }
  });

  test('the default listen address is loopback only', () => {
    assert.equal(defaultSettings().listen, [{ host: '127.0.0.1', port: 53, family: 4 }]);
  });

  for (const listen of ['0.0.0.0:0', '10.200.0.1:0']) {
    test(`listen ${listen} without allowFrom: start fails, naming allowFrom`, async () => {
      const err = await startMeshDnsProcess({ resolvConf: 'nameserver 127.0.0.1\n', settings: `listen: ["${listen}"]` }).then(
        async (m) => {
          await m.stop();
          return null;
        },
        (e: Error) => e,
      );
      assert.ok(err !== null, 'meshdns started as an open resolver');
      assert.match(err!.message, /allowFrom/);
      assert.match(err!.message, /not loopback/);
    });
  }

  test('listen 0.0.0.0 with allowFrom 10.200.0.2/32: outside sources REFUSED, allowed and loopback answered (UDP and TCP)', async () => {
    const m = await startMeshDnsProcess({
      resolvConf: 'nameserver 127.0.0.1\n',
      clusterEnv: "POD_NAMESPACE='vm-ns'\n",
      registry: FUZZ_REGISTRY,
      settings: 'listen: ["0.0.0.0:0"]\nallowFrom: ["10.200.0.2/32"]\nupstreams: ["127.0.0.1:9"]',
    });
    try {
      const rows: Array<[string, string, 'udp' | 'tcp', string]> = [
        ['10.200.0.1', '10.200.0.1', 'udp', 'REFUSED'],
        ['10.200.0.1', '10.200.0.1', 'tcp', 'REFUSED'],
        ['10.200.0.2', '10.200.0.1', 'udp', 'NOERROR'],
        ['10.200.0.2', '10.200.0.1', 'tcp', 'NOERROR'],
        ['127.0.0.1', '127.0.0.1', 'udp', 'NOERROR'],
        ['127.0.0.1', '127.0.0.1', 'tcp', 'NOERROR'],
      ];
      for (const [source, target, transport, rcode] of rows) {
        const a = await (transport === 'udp' ? udpFrom(source, target, m.port) : tcpFrom(source, target, m.port));
        assert.is(a.rcode, rcode, `${transport} from ${source}`);
        if (rcode === 'REFUSED') assert.equal(a.msg.answers ?? [], [], 'no data to a refused client');
        else assert.equal(answerLines(a), [`A ${NAME} 10.96.12.34`]);
      }
    } finally {
      await m.stop();
    }
  });

  test.run();
}
