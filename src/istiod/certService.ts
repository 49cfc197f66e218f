import * as grpc from '@grpc/grpc-js';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { IstioCertificateRequestSchema, IstioCertificateResponseSchema, type IstioCertificateRequest, type IstioCertificateResponse } from './gen/security/v1alpha1/ca_pb';
import { callMetadata, channelCredentials, channelOptions, type ClientIdentity, type IstiodEndpoint } from './channel';

/** istiod's CA (istio/api security/v1alpha1/ca.proto), on the istiod address. */
export const CREATE_CERTIFICATE_METHOD = '/istio.v1.auth.IstioCertificateService/CreateCertificate';

const CALL_TIMEOUT_MS = 15_000;

/**
 * One CreateCertificate call over the same TLS verification as the NDS stream, proving the
 * identity with the token (first time) or the current certificate (renewal). Resolves to the
 * PEM chain, leaf first.
 */
export function createCertificate(endpoint: IstiodEndpoint, identity: ClientIdentity, csrPem: string, validitySeconds: number): Promise<string[]> {
  const host = endpoint.ip.includes(':') ? `[${endpoint.ip}]` : endpoint.ip;
  const client = new grpc.Client(`${host}:${endpoint.port}`, channelCredentials(endpoint, identity), channelOptions(endpoint.serverName));
  const request = create(IstioCertificateRequestSchema, { csr: csrPem, validityDuration: BigInt(validitySeconds) });
  return new Promise<string[]>((resolve, reject) => {
    client.makeUnaryRequest(
      CREATE_CERTIFICATE_METHOD,
      (req: IstioCertificateRequest) => Buffer.from(toBinary(IstioCertificateRequestSchema, req)),
      (bytes: Buffer) => fromBinary(IstioCertificateResponseSchema, bytes),
      request,
      callMetadata(endpoint, identity),
      { deadline: Date.now() + CALL_TIMEOUT_MS },
      (err: grpc.ServiceError | null, resp?: IstioCertificateResponse) => {
        client.close();
        if (err !== null) return reject(err);
        if (resp === undefined || resp.certChain.length === 0) return reject(new Error('istiod returned an empty certificate chain'));
        resolve(resp.certChain);
      },
    );
  });
}
