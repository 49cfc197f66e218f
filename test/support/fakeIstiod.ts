// A fake istiod for tests: a real grpc-js server over TLS serving the ADS method. It checks
// what istiod checks of a proxy (token, clusterid header, node id, metadata as strings), pushes
// NameTables and records every request (ACKs and NACKs).
import * as grpc from '@grpc/grpc-js';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { DiscoveryRequestSchema, DiscoveryResponseSchema, type DiscoveryRequest, type DiscoveryResponse } from '../../src/istiod/gen/envoy/service/discovery/v3/discovery_pb';
import { ControlPlaneSchema } from '../../src/istiod/gen/envoy/config/core/v3/base_pb';
import { NameTableSchema, NameTable_NameInfoSchema } from '../../src/istiod/gen/istio/networking/nds/v1/nds_pb';
import { ADS_METHOD } from '../../src/istiod/channel';
import { NAME_TABLE_TYPE } from '../../src/istiod/nameTable';
import { CREATE_CERTIFICATE_METHOD } from '../../src/istiod/certService';
import { IstioCertificateRequestSchema, IstioCertificateResponseSchema, type IstioCertificateRequest, type IstioCertificateResponse } from '../../src/istiod/gen/security/v1alpha1/ca_pb';
import { FakeCa } from './fakeCa';

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
  /** Serve CreateCertificate signing with this CA, and accept its certificates on the ADS stream. */
  ca?: { key: Buffer; cert: Buffer; trustDomain?: string };
}

/** One CreateCertificate call: how the caller proved itself, and the answer. */
export interface CertRequest {
  via: 'token' | 'certificate' | 'none';
  caller?: string;
  refused?: string;
  at: number;
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
  /** The SPIFFE identity of each ADS stream that came with a verified client certificate ('' when none). */
  readonly peerIdentities: string[] = [];
  readonly certRequests: CertRequest[] = [];
  /** Lifetime of the certificates the CA signs. */
  certTtlSeconds = 3600;
  private readonly ca: FakeCa | undefined;
  private readonly server = new grpc.Server({ 'grpc.max_send_message_length': -1, 'grpc.max_receive_message_length': -1 });
  private streams = new Set<Stream>();
  private streamCount = 0;
  private pushCount = 0;
  private current: { table: FakeTable; corrupt: boolean } | undefined;
  port = 0;
  token: string;
  /** Sent as istiod does in every response's control_plane.identifier (JSON, Info.version); none when undefined. */
  controlPlaneVersion: string | undefined;
  private waiters: Array<() => void> = [];

  constructor(private readonly options: FakeIstiodOptions) {
    this.token = options.token;
    this.ca = options.ca === undefined ? undefined : new FakeCa({ caKey: options.ca.key, caCert: options.ca.cert, trustDomain: options.ca.trustDomain ?? 'cluster.local' });
    if (this.ca !== undefined) {
      this.server.addService(
        {
          CreateCertificate: {
            path: CREATE_CERTIFICATE_METHOD,
            requestStream: false,
            responseStream: false,
            requestSerialize: (r: IstioCertificateRequest) => Buffer.from(toBinary(IstioCertificateRequestSchema, r)),
            requestDeserialize: (b: Buffer) => fromBinary(IstioCertificateRequestSchema, b),
            responseSerialize: (r: IstioCertificateResponse) => Buffer.from(toBinary(IstioCertificateResponseSchema, r)),
            responseDeserialize: (b: Buffer) => fromBinary(IstioCertificateResponseSchema, b),
          },
        },
        { CreateCertificate: (call: grpc.ServerUnaryCall<IstioCertificateRequest, IstioCertificateResponse>, cb: grpc.sendUnaryData<IstioCertificateResponse>) => void this.onCreateCertificate(call, cb) },
      );
    }
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
    const pair = [{ private_key: this.options.key, cert_chain: this.options.cert }];
    const creds = this.options.ca === undefined ? grpc.ServerCredentials.createSsl(null, pair, false) : grpc.ServerCredentials.createSsl(this.options.ca.cert, pair, true);
    // A client certificate is asked for but not required (a proxy may come with a token only);
    // one that does not verify leaves the call unauthenticated, as in istiod.
    if (this.options.ca !== undefined) Object.assign(creds._getConstructorOptions() ?? {}, { rejectUnauthorized: false });
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
    const peer = this.peerIdentity(call);
    this.peerIdentities.push(peer ?? '');
    if (peer === undefined && authorization !== `Bearer ${this.token}`) return this.refuse(call, grpc.status.UNAUTHENTICATED, 'authentication failure');
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

  /** The URI SAN of a client certificate the TLS layer verified against the CA. */
  private peerIdentity(call: { getAuthContext(): { sslPeerCertificate?: { subjectaltname?: string } } | null }): string | undefined {
    const cert = call.getAuthContext()?.sslPeerCertificate;
    const m = /URI:([^,\s]+)/.exec(cert?.subjectaltname ?? '');
    return m?.[1];
  }

  /** The caller's identity from the token's `sub` (system:serviceaccount:<ns>:<sa>). */
  private tokenIdentity(authorization: string): string | undefined {
    if (this.ca === undefined || authorization !== `Bearer ${this.token}`) return undefined;
    const claims = JSON.parse(Buffer.from(this.token.split('.')[1] ?? '', 'base64url').toString() || '{}') as { sub?: string };
    const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(claims.sub ?? '');
    return m === null ? undefined : this.ca.identity(m[1], m[2]);
  }

  private async onCreateCertificate(call: grpc.ServerUnaryCall<IstioCertificateRequest, IstioCertificateResponse>, cb: grpc.sendUnaryData<IstioCertificateResponse>): Promise<void> {
    const authorization = String(call.metadata.get('authorization')[0] ?? '');
    const peer = this.peerIdentity(call);
    const fromToken = this.tokenIdentity(authorization);
    const caller = peer ?? fromToken;
    const entry: CertRequest = { via: peer !== undefined ? 'certificate' : fromToken !== undefined ? 'token' : 'none', caller, at: Date.now() };
    this.certRequests.push(entry);
    const fail = (code: grpc.status, details: string): void => {
      entry.refused = `${grpc.status[code]}: ${details}`;
      this.notify();
      cb({ code, details });
    };
    if (caller === undefined || this.ca === undefined) return fail(grpc.status.UNAUTHENTICATED, 'authentication failure');
    const signed = await this.ca.sign(call.request.csr, caller, this.certTtlSeconds);
    if (typeof signed === 'string') return fail(grpc.status.PERMISSION_DENIED, signed);
    this.notify();
    cb(null, create(IstioCertificateResponseSchema, { certChain: signed }));
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
    const controlPlane =
      this.controlPlaneVersion === undefined ? undefined : create(ControlPlaneSchema, { identifier: JSON.stringify({ Component: 'istiod', ID: 'istiod-fake-0', Info: { version: this.controlPlaneVersion, revision: 'fake', status: 'Clean' } }) });
    stream.call.write(create(DiscoveryResponseSchema, { versionInfo: version, nonce, typeUrl: NAME_TABLE_TYPE, resources: [create(AnySchema, { typeUrl: NAME_TABLE_TYPE, value })], ...(controlPlane === undefined ? {} : { controlPlane }) }));
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
