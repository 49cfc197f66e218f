import 'reflect-metadata';
import { X509Certificate, createPrivateKey, webcrypto } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

/**
 * The workload certificate meshdns gets from istiod's CA (docs/ARCHITECTURE.md §11): key and
 * CSR made here (ECDSA P-256, the SPIFFE identity as URI SAN), the signed chain stored in
 * `<stateDir>/certs/`. Node's crypto makes keys but not CSRs: @peculiar/x509 on Node's
 * webcrypto builds them (docs/DECISIONS.md, "workload certificate"). Node 18 has no
 * `globalThis.crypto` without a flag, hence the module's webcrypto.
 */

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
export const KEY_FILE = 'key.pem';
export const CHAIN_FILE = 'cert-chain.pem';
/** Key and chain in one file: what meshdns reads (see saveCert). */
export const PAIR_FILE = 'pair.pem';
const PRIVATE_KEY_BLOCK = /-----BEGIN (?:EC )?PRIVATE KEY-----[^-]+-----END (?:EC )?PRIVATE KEY-----\n?/;

export interface WorkloadCert {
  key: Buffer;
  chain: Buffer;
  /** Milliseconds since the epoch. */
  notBefore: number;
  notAfter: number;
  /** The leaf's URI SAN. */
  identity: string;
}

export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

export function certsDir(stateDir: string): string {
  return join(stateDir, 'certs');
}

/** A fresh P-256 key (PKCS#8 PEM) and a CSR for `identity` signed by it. */
export async function makeKeyAndCsr(identity: string): Promise<{ keyPem: string; csrPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys: keys as unknown as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[0]['keys'],
    signingAlgorithm: ALGORITHM,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: identity }], true)],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'), csrPem: csr.toString('pem') };
}

/** The URI SANs of a PEM CSR (what a CA checks against the caller's identity). */
export function csrIdentities(csrPem: string): string[] {
  const csr = new x509.Pkcs10CertificateRequest(csrPem);
  const ext = csr.getExtension('2.5.29.17');
  if (ext === null) return [];
  return new x509.SubjectAlternativeNameExtension(ext.rawData).names.items.filter((n) => n.type === 'url').map((n) => n.value);
}

/** Key and chain as a usable certificate, or why not (chain unreadable, key not the leaf's). */
export function parseCert(key: Buffer, chain: Buffer): WorkloadCert | string {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(chain);
  } catch (err) {
    return `the certificate chain is not PEM X.509: ${(err as Error).message}`;
  }
  try {
    if (!leaf.checkPrivateKey(createPrivateKey(key))) return 'the key does not belong to the certificate';
  } catch (err) {
    return `the key is unreadable: ${(err as Error).message}`;
  }
  const uri = /URI:([^,\s]+)/.exec(leaf.subjectAltName ?? '');
  return { key, chain, notBefore: Date.parse(leaf.validFrom), notAfter: Date.parse(leaf.validTo), identity: uri?.[1] ?? '' };
}

/** The saved certificate, undefined when none; a broken pair is reported as a string. */
export async function loadCert(dir: string): Promise<WorkloadCert | string | undefined> {
  const pair = await fs.readFile(join(dir, PAIR_FILE), 'latin1').catch(() => undefined);
  if (pair !== undefined) {
    const key = PRIVATE_KEY_BLOCK.exec(pair);
    if (key === null) return `${join(dir, PAIR_FILE)}: no private key in it`;
    return parseCert(Buffer.from(key[0], 'latin1'), Buffer.from(pair.replace(key[0], ''), 'latin1'));
  }
  // Saved before the pair file existed: the two files.
  const [key, chain] = await Promise.all([fs.readFile(join(dir, KEY_FILE)).catch(() => undefined), fs.readFile(join(dir, CHAIN_FILE)).catch(() => undefined)]);
  if (key === undefined || chain === undefined) return undefined;
  return parseCert(key, chain);
}

/**
 * The key (0600) and chain are saved as one file, `pair.pem` (0600), written to a temporary file
 * and renamed over the old one: a single rename, so a stop or crash at any moment leaves either
 * the old pair or the new one, never a key from one and a certificate from the other (which
 * would leave a VM without a token unable to connect). `key.pem` and `cert-chain.pem`, the
 * names Istio's agent uses, are written after it for operators and tools; meshdns reads the pair.
 */
export async function saveCert(dir: string, keyPem: string, chainPem: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const write = async (name: string, text: string, mode: number): Promise<void> => {
    const tmp = join(dir, `.${name}.${process.pid}.tmp`);
    const handle = await fs.open(tmp, 'w', mode);
    try {
      await handle.writeFile(text);
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, join(dir, name));
  };
  await write(PAIR_FILE, `${keyPem.trimEnd()}\n${chainPem}`, 0o600);
  await write(KEY_FILE, keyPem, 0o600);
  await write(CHAIN_FILE, chainPem, 0o644);
}

/** Usable for a connect: not expired (a second's margin for the handshake). */
export function certUsable(cert: WorkloadCert | undefined, now = Date.now()): boolean {
  return cert !== undefined && cert.notAfter - 1000 > now && cert.notBefore <= now + 60_000;
}

/** When to renew: at half the lifetime, ±10% of it (Istio's agent renews at about half, with jitter). */
export function renewAt(cert: WorkloadCert, random: () => number = Math.random): number {
  const life = cert.notAfter - cert.notBefore;
  return cert.notBefore + life * (0.4 + 0.2 * random());
}
