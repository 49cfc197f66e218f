import { promises as fs } from 'node:fs';
import type { Problem } from '../problem';
import type { Snapshot } from '../inputs';
import { istiodTarget, meshDefaults, proxyNode } from './bootstrap';
import { decodeToken, tokenProblem } from './token';

/**
 * What `meshdns check` says about the istiod settings (docs/ARCHITECTURE.md §11): with
 * `enabled: true` (or auto with the files there), a missing or expired token, an unreadable root
 * certificate, no address, or a node istiod would refuse are problems. The token's `exp` is
 * decoded, not verified.
 */
export async function istiodProblems(snap: Snapshot, now = Date.now()): Promise<Problem[]> {
  const s = snap.settings.istiod;
  if (s.enabled === 'false') return [];
  const read = (p: string): Promise<string | undefined> => fs.readFile(p, 'utf8').catch(() => undefined);
  const [tokenText, rootText] = [await read(s.token), await read(s.rootCert)];
  if (s.enabled === 'auto' && (tokenText === undefined || rootText === undefined)) return [];
  const file = snap.settingsFile;
  const problems: Problem[] = [];
  const tokenIssue = tokenProblem(tokenText === undefined ? undefined : decodeToken(tokenText), s.token, now);
  if (tokenIssue !== undefined) problems.push({ file, field: 'istiod.token', message: tokenIssue, severity: 'error' });
  if (rootText === undefined) problems.push({ file, field: 'istiod.rootCert', message: `cannot read ${s.rootCert}: copy istioctl's root-cert.pem there`, severity: 'error' });
  else if (!rootText.includes('-----BEGIN CERTIFICATE-----')) problems.push({ file, field: 'istiod.rootCert', message: `${s.rootCert} holds no PEM certificate`, severity: 'error' });
  const meshText = await read(snap.settings.bootstrap.meshConfig);
  const mesh = meshDefaults(meshText, snap.settings.bootstrap.meshConfig);
  problems.push(...mesh.problems);
  const env = snap.clusterEnv.value ?? {};
  if (istiodTarget(s, mesh.value, env) === undefined) {
    problems.push({ file, field: 'istiod.address', message: `no istiod address: set istiod.address ("host:port") or defaultConfig.discoveryAddress in ${snap.settings.bootstrap.meshConfig}`, severity: 'error' });
  }
  const node = proxyNode({ clusterEnv: env, proxyMetadata: mesh.value.proxyMetadata, clusterDomain: snap.settings.clusterDomain, namespace: snap.effective.namespace, clusterEnvFile: snap.settings.bootstrap.clusterEnv, istioVersion: s.istioVersion });
  problems.push(...node.problems);
  return problems;
}
