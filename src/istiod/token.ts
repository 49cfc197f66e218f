import { promises as fs } from 'node:fs';

/** The istio-token file: a Kubernetes service account JWT, re-read at every connect (rotation). */
export interface TokenInfo {
  token: string;
  /** `exp` claim (seconds since the epoch) when the token is a JWT that has one. */
  expiresAt?: number;
  /** `sub` claim: `system:serviceaccount:<namespace>:<name>`. */
  subject?: string;
}

/** Decodes a JWT's claims without verifying it (istiod verifies; meshdns only reports). */
export function decodeToken(text: string): TokenInfo {
  const token = text.trim();
  const parts = token.split('.');
  if (parts.length !== 3) return { token };
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (claims === null || typeof claims !== 'object') return { token };
    const { exp, sub } = claims as { exp?: unknown; sub?: unknown };
    return { token, ...(typeof exp === 'number' ? { expiresAt: exp } : {}), ...(typeof sub === 'string' ? { subject: sub } : {}) };
  } catch {
    return { token };
  }
}

export async function readToken(file: string): Promise<TokenInfo> {
  return decodeToken(await fs.readFile(file, 'utf8'));
}

/** What is wrong with the token for `meshdns check` and the log, or undefined when it looks usable. */
export function tokenProblem(info: TokenInfo | undefined, file: string, now = Date.now()): string | undefined {
  if (info === undefined) return `no token at ${file}: istioctl x workload entry configure writes istio-token; copy it there (or set istiod.token)`;
  if (info.token === '') return `the token file ${file} is empty`;
  if (info.expiresAt !== undefined && info.expiresAt * 1000 <= now) {
    return `the token in ${file} expired at ${new Date(info.expiresAt * 1000).toISOString()}: make a new one (istioctl x workload entry configure --tokenDuration) and copy it there`;
  }
  return undefined;
}
