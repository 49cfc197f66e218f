// A fake istiod for tests: a real grpc-js server over TLS serving the ADS method. It checks
// what istiod checks of a proxy (token, clusterid header, node id, metadata as strings), pushes
// NameTables and records every request (ACKs and NACKs).
import * as grpc from '@grpc/grpc-js';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { DiscoveryRequestSchema, DiscoveryResponseSchema, type DiscoveryRequest, type DiscoveryResponse } from '../../src/istiod/gen/envoy/service/discovery/v3/discovery_pb';
import { NameTableSchema, NameTable_NameInfoSchema } from '../../src/istiod/gen/istio/networking/nds/v1/nds_pb';
import { ADS_METHOD } from '../../src/istiod/channel';
import { NAME_TABLE_TYPE } from '../../src/istiod/nameTable';

export interface FakeNameInfo {
  ips: string[];
  registry?: string;
  shortname?: string;
  namespace?: string;
}

export type FakeTable = Record<string, FakeNameInfo>;

export interface RecordedRequest {
  stream: number;
  versionInfo: string;
  nonce: string;
  error?: string;
  nodeId?: string;
  metadata?: Record<string, unknown>;
  at: number;
}

export interface FakeIstiodOptions {
  key: Buffer;
  cert: Buffer;
  token: string;
  clusterId: string;
  /** The node id expected, as a regular expression. */
  nodeId: RegExp;
}

interface Stream {
  id: number;
  call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>;
  authorization: string;
}

export class FakeIstiod {
  readonly requests: RecordedRequest[] = [];
  /** Refusals sent (status code name and details). */
  readonly refusals: Array<{ code: string; details: string }> = [];
  readonly authorizations: string[] = [];
  private readonly server = new grpc.Server({ 'grpc.max_send_message_length': -1, 'grpc.max_receive_message_length': -1 });
  private streams = new Set<Stream>();
  private streamCount = 0;
  private pushCount = 0;
  private current: { table: FakeTable; corrupt: boolean } | undefined;
  port = 0;
  token: string;
  private waiters: Array<() => void> = [];

  constructor(private readonly options: FakeIstiodOptions) {
    this.token = options.token;
    this.server.addService(
      {
        StreamAggregatedResources: {
          path: ADS_METHOD,
          requestStream: true,
          responseStream: true,
          requestSerialize: (r: DiscoveryRequest) => Buffer.from(toBinary(DiscoveryRequestSchema, r)),
          requestDeserialize: (b: Buffer) => fromBinary(DiscoveryRequestSchema, b),
          responseSerialize: (r: DiscoveryResponse) => Buffer.from(toBinary(DiscoveryResponseSchema, r)),
          responseDeserialize: (b: Buffer) => fromBinary(DiscoveryResponseSchema, b),
        },
      },
      { StreamAggregatedResources: (call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) => this.onStream(call) },
    );
  }

  async start(port = 0): Promise<number> {
    const creds = grpc.ServerCredentials.createSsl(null, [{ private_key: this.options.key, cert_chain: this.options.cert }], false);
    this.port = await new Promise<number>((resolve, reject) => this.server.bindAsync(`127.0.0.1:${port}`, creds, (err, p) => (err ? reject(err) : resolve(p))));
    return this.port;
  }

  get openStreams(): number {
    return this.streams.size;
  }

  private refuse(call: Stream['call'], code: grpc.status, details: string): void {
    this.refusals.push({ code: grpc.status[code], details });
    this.notify();
    call.emit('error', { code, details, metadata: new grpc.Metadata() });
  }

  private onStream(call: Stream['call']): void {
    const md = call.metadata;
    const authorization = String(md.get('authorization')[0] ?? '');
    this.authorizations.push(authorization);
    if (authorization !== `Bearer ${this.token}`) return this.refuse(call, grpc.status.UNAUTHENTICATED, 'authentication failure');
    if (String(md.get('clusterid')[0] ?? '') !== this.options.clusterId) return this.refuse(call, grpc.status.INVALID_ARGUMENT, `clusterid header ${JSON.stringify(md.get('clusterid')[0])} is not ${this.options.clusterId}`);
    const stream: Stream = { id: ++this.streamCount, call, authorization };
    let first = true;
    call.on('data', (req: DiscoveryRequest) => {
      const metadata = req.node?.metadata as Record<string, unknown> | undefined;
      this.requests.push({
        stream: stream.id,
        versionInfo: req.versionInfo,
        nonce: req.responseNonce,
        ...(req.errorDetail === undefined ? {} : { error: req.errorDetail.message }),
        ...(req.node === undefined ? {} : { nodeId: req.node.id, metadata }),
        at: Date.now(),
      });
      this.notify();
      if (!first) return;
      first = false;
      const bad = this.checkNode(req);
      if (bad !== undefined) return this.refuse(call, grpc.status.INVALID_ARGUMENT, bad);
      if (req.typeUrl !== NAME_TABLE_TYPE) return this.refuse(call, grpc.status.INVALID_ARGUMENT, `unexpected type ${req.typeUrl}`);
      this.streams.add(stream);
      if (this.current !== undefined) this.send(stream, this.current.table, this.current.corrupt, `v${this.pushCount}`, `n${this.pushCount}-${stream.id}`);
    });
    const drop = (): void => {
      this.streams.delete(stream);
      this.notify();
    };
    call.on('end', () => {
      drop();
      call.end();
    });
    call.on('error', drop);
    call.on('cancelled', drop);
  }

  /** What istiod checks: a sidecar node id, metadata values that are strings, no WorkloadEntry keys. */
  private checkNode(req: DiscoveryRequest): string | undefined {
    const node = req.node;
    if (node === undefined) return 'the first request carries no node';
    if (!this.options.nodeId.test(node.id)) return `node id ${JSON.stringify(node.id)} does not match ${this.options.nodeId}`;
    const metadata = (node.metadata ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(metadata)) {
      if (k === 'LABELS') {
        if (typeof v !== 'object' || v === null || Object.values(v).some((x) => typeof x !== 'string')) return 'LABELS must be a map of strings';
      } else if (typeof v !== 'string') return `metadata ${k} is a ${typeof v}, istiod reads strings`;
    }
    if (metadata.DNS_CAPTURE !== 'true') return 'DNS_CAPTURE is not "true": istiod sends no name table';
    for (const k of ['AUTO_REGISTER_GROUP', 'WORKLOAD_ENTRY']) if (k in metadata) return `metadata ${k} must not be sent`;
    return undefined;
  }

  private send(stream: Stream, table: FakeTable, corrupt: boolean, version: string, nonce: string): void {
    const message = create(NameTableSchema, {
      table: Object.fromEntries(
        Object.entries(table).map(([host, i]) => [host, create(NameTable_NameInfoSchema, { ips: i.ips, registry: i.registry ?? '', shortname: i.shortname ?? '', namespace: i.namespace ?? '' })]),
      ),
    });
    const value = corrupt ? Buffer.from([0x0a, 0xff, 0xff, 0x01, 0x02]) : toBinary(NameTableSchema, message);
    stream.call.write(create(DiscoveryResponseSchema, { versionInfo: version, nonce, typeUrl: NAME_TABLE_TYPE, resources: [create(AnySchema, { typeUrl: NAME_TABLE_TYPE, value })] }));
  }

  /** Push a table to every open stream; returns the version and the nonce prefix of this push. */
  push(table: FakeTable, options: { corrupt?: boolean } = {}): { version: string; nonces: string[] } {
    this.pushCount++;
    this.current = { table, corrupt: options.corrupt === true };
    if (options.corrupt === true) this.current = { table, corrupt: true };
    const nonces: string[] = [];
    for (const s of this.streams) {
      const nonce = `n${this.pushCount}-${s.id}`;
      nonces.push(nonce);
      this.send(s, table, options.corrupt === true, `v${this.pushCount}`, nonce);
    }
    return { version: `v${this.pushCount}`, nonces };
  }

  /** Send the same response again with a nonce already used on the stream (a stale nonce). */
  replay(table: FakeTable, nonce: string, version: string): void {
    for (const s of this.streams) this.send(s, table, false, version, nonce);
  }

  /** The table a (re)connecting proxy gets first, without pushing to open streams. */
  setCurrent(table: FakeTable): void {
    this.current = { table, corrupt: false };
  }

  /** End every stream from the server side (as istiod does when it restarts or rebalances). */
  endStreams(): void {
    for (const s of this.streams) s.call.end();
    this.streams.clear();
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Wait until `check` holds (re-checked at every request, refusal or stream change). */
  async until<T>(check: () => T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v !== undefined && v !== false) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`fake istiod: timed out waiting for ${what}; requests: ${JSON.stringify(this.requests.map((r) => ({ ...r, metadata: undefined })))} refusals: ${JSON.stringify(this.refusals)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The ACK or NACK of `nonce`. */
  answerTo(nonce: string, timeoutMs?: number): Promise<RecordedRequest> {
    return this.until(() => this.requests.find((r) => r.nonce === nonce), `an answer to nonce ${nonce}`, timeoutMs);
  }

  async close(): Promise<void> {
    for (const s of this.streams) s.call.end();
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    this.server.forceShutdown();
  }
}
