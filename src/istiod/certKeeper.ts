import type { Logger } from 'pino';
import * as grpc from '@grpc/grpc-js';
import type { ClientIdentity, IstiodEndpoint } from './channel';
import { createCertificate } from './certService';
import { tokenProblem, type TokenInfo } from './token';
import { certUsable, loadCert, makeKeyAndCsr, parseCert, renewAt, saveCert, type WorkloadCert } from './workloadCert';

/** What meshdns asks istiod's CA for; the CA may shorten it (Istio's agent asks for 24 h too). */
export const REQUESTED_VALIDITY_SECONDS = 24 * 3600;

export interface CertKeeperOptions {
  log: Logger;
  /** `<stateDir>/certs`. */
  dir: string;
  /** The token file, re-read whenever it is needed. */
  readToken(): Promise<TokenInfo | undefined>;
  tokenFile: string;
  random?: () => number;
}

/** Why neither credential can be used: the table stays as it is and this is said once. */
export class NoCredentialError extends Error {}

/**
 * The workload certificate's life (docs/ARCHITECTURE.md §11): loaded from the state dir,
 * requested with the token when missing, expired or rejected, renewed with itself at about
 * half its lifetime. The old pair stays in use until the new one is saved.
 */
export class CertKeeper {
  private cert: WorkloadCert | undefined;
  /** The last complaint about the saved pair (said once per change). */
  private lastLoadProblem: string | undefined;
  private rejected = false;
  private renewTimer: NodeJS.Timeout | undefined;
  private renewDue: number | undefined;
  private endpoint: IstiodEndpoint | undefined;
  private identity = '';
  private stopped = false;
  /** The last CA failure logged (said once per change, not at every connect). */
  private lastCaError: string | undefined;

  constructor(private readonly options: CertKeeperOptions) {}

  get dir(): string {
    return this.options.dir;
  }

  get tokenFile(): string {
    return this.options.tokenFile;
  }

  /** The identity for the next connect: the certificate when usable, else the token (getting a certificate with it). */
  async identityFor(endpoint: IstiodEndpoint, identity: string): Promise<ClientIdentity> {
    this.endpoint = endpoint;
    this.identity = identity;
    await this.loadSaved();
    if (this.cert !== undefined && certUsable(this.cert) && !this.rejected && this.cert.identity === identity) {
      this.schedule();
      return { certificate: { key: this.cert.key, chain: this.cert.chain } };
    }
    const token = await this.options.readToken();
    const problem = tokenProblem(token, this.options.tokenFile);
    if (problem !== undefined || token === undefined) throw new NoCredentialError(this.neitherMessage(problem ?? 'no token'));
    try {
      await this.obtain(endpoint, { token: token.token });
      if (this.cert !== undefined) return { certificate: { key: this.cert.key, chain: this.cert.chain } };
    } catch (err) {
      const message = `cannot get a workload certificate from istiod's CA, connecting with the token (which expires${token.expiresAt === undefined ? '' : ` at ${new Date(token.expiresAt * 1000).toISOString()}`}): ${describeCaError(err as Error, identity)}`;
      if (message !== this.lastCaError) this.options.log.error(message);
      this.lastCaError = message;
    }
    return { token: token.token };
  }

  /** istiod refused the certificate on the stream: the next connect uses the token. */
  certificateRejected(): void {
    this.rejected = true;
  }

  get current(): WorkloadCert | undefined {
    return this.cert;
  }

  status(): Record<string, unknown> | null {
    if (this.cert === undefined) return null;
    return {
      identity: this.cert.identity,
      notAfter: new Date(this.cert.notAfter).toISOString(),
      renewAt: this.renewDue === undefined ? null : new Date(this.renewDue).toISOString(),
      expired: !certUsable(this.cert),
    };
  }

  stop(): void {
    this.stopped = true;
    if (this.renewTimer !== undefined) clearTimeout(this.renewTimer);
    this.renewTimer = undefined;
  }

  private neitherMessage(tokenIssue: string): string {
    const cert = this.cert === undefined ? 'there is no workload certificate' : `the workload certificate expired at ${new Date(this.cert.notAfter).toISOString()}`;
    return `cannot authenticate to istiod: ${tokenIssue}, and ${cert}; serving the last name table until a new token is copied to ${this.options.tokenFile}`;
  }

  /**
   * The saved pair, read while meshdns has no usable certificate of its own: at start, and again
   * at each connect until one is usable (a pair saved meanwhile, e.g. by the instance that was
   * stopping while this one started, or copied by an operator, is picked up without a token).
   */
  private async loadSaved(): Promise<void> {
    if (this.cert !== undefined && certUsable(this.cert)) return;
    const saved = await loadCert(this.options.dir);
    if (typeof saved === 'string') {
      if (saved !== this.lastLoadProblem) this.options.log.warn(`ignoring the saved workload certificate in ${this.options.dir}: ${saved}`);
      this.lastLoadProblem = saved;
    } else if (saved !== undefined && certUsable(saved) && saved.notAfter !== this.cert?.notAfter) {
      this.cert = saved;
      this.rejected = false;
      this.lastLoadProblem = undefined;
      this.options.log.info({ identity: saved.identity, notAfter: new Date(saved.notAfter).toISOString() }, 'using the saved workload certificate');
    } else if (saved !== undefined && this.cert === undefined) {
      this.cert = saved;
    }
  }

  /** A new key, CSR and signed chain; saved before it replaces the current pair. */
  private async obtain(endpoint: IstiodEndpoint, proof: ClientIdentity): Promise<void> {
    const { keyPem, csrPem } = await makeKeyAndCsr(this.identity);
    const chain = await createCertificate(endpoint, proof, csrPem, REQUESTED_VALIDITY_SECONDS);
    const chainPem = chain.map((c) => (c.endsWith('\n') ? c : `${c}\n`)).join('');
    const parsed = parseCert(Buffer.from(keyPem), Buffer.from(chainPem));
    if (typeof parsed === 'string') throw new Error(`istiod's CA returned an unusable certificate: ${parsed}`);
    await saveCert(this.options.dir, keyPem, chainPem);
    this.cert = parsed;
    this.rejected = false;
    this.lastCaError = undefined;
    this.options.log.info({ identity: parsed.identity, notAfter: new Date(parsed.notAfter).toISOString(), via: proof.token === undefined ? 'certificate' : 'token' }, 'workload certificate saved');
    this.schedule(true);
  }

  private schedule(fresh = false): void {
    if (this.stopped || this.cert === undefined) return;
    if (this.renewTimer !== undefined && !fresh) return;
    if (this.renewTimer !== undefined) clearTimeout(this.renewTimer);
    const due = renewAt(this.cert, this.options.random);
    this.renewDue = due;
    this.renewTimer = setTimeout(() => {
      this.renewTimer = undefined;
      void this.renew();
    }, Math.max(0, due - Date.now()));
    this.renewTimer.unref();
  }

  /** Renewal with the current certificate; the token when that fails and the token is still good. */
  private async renew(): Promise<void> {
    const endpoint = this.endpoint;
    const cert = this.cert;
    if (this.stopped || endpoint === undefined || cert === undefined) return;
    try {
      if (!certUsable(cert)) throw new Error(`the certificate expired at ${new Date(cert.notAfter).toISOString()}`);
      await this.obtain(endpoint, { certificate: { key: cert.key, chain: cert.chain } });
      return;
    } catch (err) {
      const token = await this.options.readToken();
      if (tokenProblem(token, this.options.tokenFile) === undefined && token !== undefined) {
        try {
          await this.obtain(endpoint, { token: token.token });
          return;
        } catch {
          // reported below with the first error
        }
      }
      this.options.log.warn(`cannot renew the workload certificate (expires ${new Date(cert.notAfter).toISOString()}): ${describeCaError(err as Error, this.identity)}; retrying`);
    }
    if (this.stopped) return;
    // Retry at a tenth of what is left, between 1 s and 5 min.
    const delay = Math.min(300_000, Math.max(1000, (cert.notAfter - Date.now()) / 10));
    this.renewDue = Date.now() + delay;
    this.renewTimer = setTimeout(() => {
      this.renewTimer = undefined;
      void this.renew();
    }, delay);
    this.renewTimer.unref();
  }
}

function describeCaError(err: Error, identity: string): string {
  const e = err as Partial<grpc.ServiceError>;
  if (e.code === undefined) return err.message;
  if (e.code === grpc.status.UNAUTHENTICATED || e.code === grpc.status.PERMISSION_DENIED) {
    return `istiod's CA refused the request for ${identity} (${grpc.status[e.code]}: ${e.details ?? ''}): the token's namespace and service account must be POD_NAMESPACE/SERVICE_ACCOUNT of cluster.env`;
  }
  return `CreateCertificate failed: ${grpc.status[e.code] ?? e.code}: ${e.details ?? err.message}`;
}
