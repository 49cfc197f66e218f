import { readFile } from 'node:fs/promises';
import { Parsed } from '../problem';
import { defaultSettings, parseSettings } from './settings';
import { Settings } from './types';

/**
 * Reads and validates the settings file. A missing file means all defaults (every key is
 * optional); any other read error is a problem, with the defaults still returned.
 */
export async function loadSettingsFile(path: string): Promise<Parsed<Settings>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { value: defaultSettings(), problems: [] };
    const reason = err instanceof Error ? err.message : String(err);
    const hint = code === 'EACCES' ? '; make it readable by the meshdns user' : code === 'EISDIR' ? '; name a file, not a directory' : '';
    return { value: defaultSettings(), problems: [{ file: path, message: `cannot read the settings file: ${reason}${hint}`, severity: 'error' }] };
  }
  return parseSettings(text, path);
}
