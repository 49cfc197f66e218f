import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../system/atomicWrite';

/**
 * The last accepted name table in the state dir, served at start before istiod answers
 * (docs/ARCHITECTURE.md §11): one JSON header line, then the NameTable bytes as istiod sent them.
 */
export const LAST_TABLE_FILE = 'istiod-nametable.pb';

export interface SavedTable {
  version: string;
  /** When istiod pushed it (ms since the epoch). */
  receivedAt: number;
  bytes: Uint8Array;
}

export async function saveLastTable(stateDir: string, saved: SavedTable): Promise<void> {
  await fs.mkdir(stateDir, { recursive: true });
  const header = Buffer.from(JSON.stringify({ format: 1, version: saved.version, receivedAt: saved.receivedAt }) + '\n', 'utf8');
  await writeFileAtomic(join(stateDir, LAST_TABLE_FILE), Buffer.concat([header, saved.bytes]), 0o600);
}

/** The saved table, undefined when there is none; throws with the reason when the file is unreadable. */
export async function loadLastTable(stateDir: string): Promise<SavedTable | undefined> {
  let data: Buffer;
  try {
    data = await fs.readFile(join(stateDir, LAST_TABLE_FILE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const newline = data.indexOf(10);
  if (newline < 0) throw new Error('no header line');
  const header: unknown = JSON.parse(data.subarray(0, newline).toString('utf8'));
  const h = header as { format?: unknown; version?: unknown; receivedAt?: unknown };
  if (h.format !== 1 || typeof h.version !== 'string' || typeof h.receivedAt !== 'number') throw new Error('unknown header');
  return { version: h.version, receivedAt: h.receivedAt, bytes: new Uint8Array(data.buffer, data.byteOffset + newline + 1, data.length - newline - 1) };
}
