import { promises as fs } from 'node:fs';
import type { IstiodSettings } from '../config/types';

/**
 * Whether the istiod source is on for these settings (auto: when the token and root certificate
 * exist). Its own small module: the service asks it at every start and reload, and loads the
 * client (grpc, the generated descriptors: a few hundred ms) only when the answer is yes.
 */
export async function istiodWanted(settings: IstiodSettings): Promise<boolean> {
  if (settings.enabled === 'false') return false;
  if (settings.enabled === 'true') return true;
  const exists = (p: string): Promise<boolean> => fs.access(p).then(
    () => true,
    () => false,
  );
  return (await exists(settings.token)) && (await exists(settings.rootCert));
}
