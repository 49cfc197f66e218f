import { createSecureContext } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { DiscoveryRequestSchema, DiscoveryResponseSchema, type DiscoveryRequest, type DiscoveryResponse } from './gen/envoy/service/discovery/v3/discovery_pb';

/**
 * The connection layer to istiod (docs/ARCHITECTURE.md §11): TLS credentials, channel
 * options and the ADS call. What proves the workload's identity is one `ClientIdentity` so a
 * workload certificate (issue 16) replaces the token without touching the stream code.
 */

export const ADS_METHOD = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';

/** How meshdns proves who it is: a bearer token now; a client certificate later. */
export interface ClientIdentity {
  /** Sent as `authorization: Bearer <token>`. */
  token?: string;
  /** PEM key and certificate chain presented in the TLS handshake. */
  certificate?: { key: Buffer; chain: Buffer };
}

export interface IstiodEndpoint {
  /** The IP the host resolved to. */
  ip: string;
  port: number;
  /** The name istiod's certificate must carry (SNI and verification). */
  serverName: string;
  rootCert: Buffer;
  clusterId: string;
}

/** Istio's agent: a ping every 30 s, the connection dropped when none is answered in 10 s. */
export const KEEPALIVE_TIME_MS = 30_000;
export const KEEPALIVE_TIMEOUT_MS = 10_000;

export function channelOptions(serverName: string): grpc.ChannelOptions {
  return {
    'grpc.ssl_target_name_override': serverName,
    'grpc.default_authority': serverName,
    'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
    'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
    'grpc.keepalive_permit_without_calls': 1,
    // istiod sends the whole name table in one message: 100,000 names are more than grpc's 4 MiB.
    'grpc.max_receive_message_length': -1,
    'grpc.max_send_message_length': -1,
    // meshdns reconnects itself (backoff with jitter, a fresh token each time).
    'grpc.enable_retries': 0,
  };
}

export function channelCredentials(endpoint: IstiodEndpoint, identity: ClientIdentity): grpc.ChannelCredentials {
  const context = createSecureContext({
    ca: endpoint.rootCert,
    minVersion: 'TLSv1.2',
    ...(identity.certificate === undefined ? {} : { key: identity.certificate.key, cert: identity.certificate.chain }),
  });
  return grpc.credentials.createFromSecureContext(context);
}

export function callMetadata(endpoint: IstiodEndpoint, identity: ClientIdentity): grpc.Metadata {
  const md = new grpc.Metadata();
  if (identity.token !== undefined) md.set('authorization', `Bearer ${identity.token}`);
  md.set('clusterid', endpoint.clusterId);
  return md;
}

export type AdsCall = grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;

export interface AdsConnection {
  call: AdsCall;
  close(): void;
}

export function openAds(endpoint: IstiodEndpoint, identity: ClientIdentity): AdsConnection {
  const host = endpoint.ip.includes(':') ? `[${endpoint.ip}]` : endpoint.ip;
  const client = new grpc.Client(`${host}:${endpoint.port}`, channelCredentials(endpoint, identity), channelOptions(endpoint.serverName));
  const call = client.makeBidiStreamRequest(
    ADS_METHOD,
    (req: DiscoveryRequest) => Buffer.from(toBinary(DiscoveryRequestSchema, req)),
    (bytes: Buffer) => fromBinary(DiscoveryResponseSchema, bytes),
    callMetadata(endpoint, identity),
  );
  return {
    call,
    close() {
      call.cancel();
      client.close();
    },
  };
}
