import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { isIP } from 'node:net';
import type { Problem } from '../problem';
import { writeFileAtomic } from '../system/atomicWrite';
import type { Allocations } from './allocator';

/** The state file that keeps every host's VIP across restarts (docs/ARCHITECTURE.md §2). */
export const VIP_STATE_FILE = 'vips.json';

interface StateFileV1 {
  version: 1;
  allocations: Allocations;
}

export function vipStatePath(stateDir: string): string {
  return join(stateDir, VIP_STATE_FILE);
}

/** Parse the state file's text; a damaged file yields no allocations and a problem, never a throw. */
export function parseVipState(text: string, file: string): { allocations: Allocations; problems: Problem[] } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { allocations: {}, problems: [{ file, message: `VIP state is not valid JSON (${(err as Error).message}); addresses will be allocated afresh` }] };
  }
  const obj = data as Partial<StateFileV1> | null;
  if (obj === null || typeof obj !== 'object' || obj.version !== 1 || typeof obj.allocations !== 'object' || obj.allocations === null) {
    return { allocations: {}, problems: [{ file, field: 'version', message: 'unknown VIP state format; addresses will be allocated afresh' }] };
  }
  const allocations: Allocations = {};
  const problems: Problem[] = [];
  for (const [key, value] of Object.entries(obj.allocations)) {
    const v = value as { v4?: unknown; v6?: unknown } | null;
    const v4 = typeof v?.v4 === 'string' && (v.v4 === '' || isIP(v.v4) === 4) ? v.v4 : undefined;
    const v6 = typeof v?.v6 === 'string' && (v.v6 === '' || isIP(v.v6) === 6) ? v.v6 : undefined;
    if (v4 === undefined || v6 === undefined) {
      problems.push({ file, field: `allocations.${key}`, message: 'bad entry ignored' });
      continue;
    }
    allocations[key] = { v4, v6 };
  }
  return { allocations, problems };
}

export async function loadVipState(stateDir: string): Promise<{ allocations: Allocations; problems: Problem[] }> {
  const file = vipStatePath(stateDir);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { allocations: {}, problems: [] };
    return { allocations: {}, problems: [{ file, message: `cannot read VIP state: ${(err as Error).message}` }] };
  }
  return parseVipState(text, file);
}

/** Keys sorted so the file diffs cleanly and identical state gives identical bytes. */
export function serializeVipState(allocations: Allocations): string {
  const sorted: Allocations = {};
  for (const key of Object.keys(allocations).sort()) sorted[key] = allocations[key];
  const state: StateFileV1 = { version: 1, allocations: sorted };
  return JSON.stringify(state, null, 1) + '\n';
}

/** Entries written between two turns of the event loop by `serializeVipStateInSlices`. */
const ENTRIES_PER_SLICE = 5_000;

/**
 * `serializeVipState`'s text, byte for byte, made a slice of entries at a time with the event
 * loop served in between: one `JSON.stringify` of a large registry's allocations holds queries
 * up for hundreds of ms (docs/DECISIONS.md, "VIP state file"). Only the key sort stays in one piece.
 */
export async function serializeVipStateInSlices(allocations: Allocations, entriesPerSlice = ENTRIES_PER_SLICE): Promise<string> {
  const keys = Object.keys(allocations).sort();
  if (keys.length === 0) return serializeVipState({});
  const parts: string[] = ['{\n "version": 1,\n "allocations": {\n'];
  for (let start = 0; start < keys.length; start += entriesPerSlice) {
    if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const end = Math.min(keys.length, start + entriesPerSlice);
    let slice = '';
    for (let i = start; i < end; i++) {
      const { v4, v6 } = allocations[keys[i]];
      slice += `  ${JSON.stringify(keys[i])}: {\n   "v4": ${JSON.stringify(v4)},\n   "v6": ${JSON.stringify(v6)}\n  }${i === keys.length - 1 ? '' : ','}\n`;
    }
    parts.push(slice);
  }
  parts.push(' }\n}\n');
  return parts.join('');
}

export async function saveVipState(stateDir: string, allocations: Allocations): Promise<void> {
  await fs.mkdir(stateDir, { recursive: true });
  await writeFileAtomic(vipStatePath(stateDir), await serializeVipStateInSlices(allocations));
}
