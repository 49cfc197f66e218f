// The fake istiod's certificate authority: signs a CSR (PEM) with the test CA's key for a
// short, chosen lifetime, with the caller's SPIFFE identity as URI SAN — as istiod's CA does.
import 'reflect-metadata';
import { createPrivateKey, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { csrIdentities } from '../../src/istiod/workloadCert';

export interface FakeCaOptions {
  caKey: Buffer;
  caCert: Buffer;
  trustDomain: string;
}

export class FakeCa {
  private signingKey: Promise<webcrypto.CryptoKey>;
  private readonly issuer: x509.X509Certificate;

  constructor(private readonly options: FakeCaOptions) {
    const der = createPrivateKey(options.caKey).export({ format: 'der', type: 'pkcs8' });
    this.signingKey = webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    this.issuer = new x509.X509Certificate(options.caCert.toString());
  }

  identity(namespace: string, serviceAccount: string): string {
    return `spiffe://${this.options.trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
  }

  /** The chain (leaf, root) for `csrPem`, or the reason it is refused. */
  async sign(csrPem: string, caller: string, ttlSeconds: number): Promise<string[] | string> {
    let csr: x509.Pkcs10CertificateRequest;
    try {
      csr = new x509.Pkcs10CertificateRequest(csrPem);
      if (!(await csr.verify())) return 'the CSR signature does not verify';
    } catch (err) {
      return `the CSR is unreadable: ${(err as Error).message}`;
    }
    const asked = csrIdentities(csrPem);
    if (asked.length !== 1 || asked[0] !== caller) return `the CSR asks for ${JSON.stringify(asked)}, the caller is ${caller}`;
    const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000);
    const leaf = await x509.X509CertificateGenerator.create({
      issuer: this.issuer.subject,
      subject: '',
      notBefore,
      notAfter: new Date(notBefore.getTime() + ttlSeconds * 1000),
      publicKey: csr.publicKey,
      signingKey: (await this.signingKey) as unknown as Parameters<typeof x509.X509CertificateGenerator.create>[0] extends { signingKey: infer K } ? K : never,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: caller }], true),
        await x509.AuthorityKeyIdentifierExtension.create(this.issuer, false),
      ],
    });
    return [leaf.toString('pem') + '\n', this.options.caCert.toString()];
  }
}
