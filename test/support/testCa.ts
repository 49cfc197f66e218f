// A certificate authority made by the test (openssl, a system tool: missing → the test fails):
// a root certificate and a server certificate for istiod's TLS name, signed by it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCa {
  rootCertFile: string;
  rootCert: Buffer;
  serverKey: Buffer;
  serverCert: Buffer;
  /** The CA's own key (the fake istiod's CA signs workload certificates with it). */
  caKey: Buffer;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A fresh CA in `dir` and a server certificate for `serverName` (DNS SAN) signed by it. */
export function makeTestCa(dir: string, serverName = 'istiod.istio-system.svc'): TestCa {
  mkdirSync(dir, { recursive: true });
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], dir);
  openssl(['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/O=meshdns test/CN=test root CA', '-days', '2', '-out', 'root-cert.pem', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'server.key'], dir);
  openssl(['req', '-new', '-key', 'server.key', '-subj', '/CN=istiod', '-out', 'server.csr'], dir);
  writeFileSync(join(dir, 'server.ext'), `subjectAltName=DNS:${serverName}\nextendedKeyUsage=serverAuth\n`);
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'root-cert.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'server.ext', '-out', 'server.pem'], dir);
  return {
    rootCertFile: join(dir, 'root-cert.pem'),
    rootCert: readFileSync(join(dir, 'root-cert.pem')),
    serverKey: readFileSync(join(dir, 'server.key')),
    serverCert: readFileSync(join(dir, 'server.pem')),
    caKey: readFileSync(join(dir, 'ca.key')),
  };
}

/** An unsigned JWT-shaped token with the given claims (istiod verifies tokens; the fake compares them). */
export function makeToken(claims: Record<string, unknown>): string {
  const part = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.sig`;
}
