import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { IstiodSettings } from '../config/types';

/** On or off, and why (said in `meshdns status` and /status when off). */
export interface IstiodDecision {
  on: boolean;
  why: string;
}

/**
 * Whether the istiod source is on for these settings (auto: when the root certificate exists and
 * the token or a saved workload certificate does — after a restart the token may be gone). Its own
 * small module: the service asks it at every start and reload, and loads the client (grpc, the
 * generated descriptors: a few hundred ms) only when the answer is yes.
 */
export async function istiodDecision(settings: IstiodSettings, stateDir: string): Promise<IstiodDecision> {
  if (settings.enabled === 'false') return { on: false, why: 'istiod.enabled is false' };
  if (settings.enabled === 'true') return { on: true, why: 'istiod.enabled is true' };
  const exists = (p: string): Promise<boolean> => fs.access(p).then(
    () => true,
    () => false,
  );
  // The path of workloadCert.ts's chain, spelled here so this module stays free of the client.
  const credential = (await exists(settings.token)) || (await exists(join(stateDir, 'certs', 'cert-chain.pem')));
  const root = await exists(settings.rootCert);
  if (credential && root) return { on: true, why: 'istiod.enabled is auto and the root certificate and a credential exist' };
  const missing = [...(credential ? [] : [`no token at ${settings.token} and no saved workload certificate`]), ...(root ? [] : [`no root certificate at ${settings.rootCert}`])];
  return { on: false, why: `istiod.enabled is auto: ${missing.join(', ')}` };
}

export async function istiodWanted(settings: IstiodSettings, stateDir: string): Promise<boolean> {
  return (await istiodDecision(settings, stateDir)).on;
}
