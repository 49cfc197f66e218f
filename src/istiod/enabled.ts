import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { IstiodSettings } from '../config/types';

/**
 * Whether the istiod source is on for these settings (auto: when the root certificate exists and
 * the token or a saved workload certificate does — after a restart the token may be gone). Its own small module: the service asks it at every start and reload, and loads the
 * client (grpc, the generated descriptors: a few hundred ms) only when the answer is yes.
 */
export async function istiodWanted(settings: IstiodSettings, stateDir: string): Promise<boolean> {
  if (settings.enabled === 'false') return false;
  if (settings.enabled === 'true') return true;
  const exists = (p: string): Promise<boolean> => fs.access(p).then(
    () => true,
    () => false,
  );
  // The path of workloadCert.ts's chain, spelled here so this module stays free of the client.
  const credential = (await exists(settings.token)) || (await exists(join(stateDir, 'certs', 'cert-chain.pem')));
  return credential && (await exists(settings.rootCert));
}
