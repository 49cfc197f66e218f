/**
 * Reads a boolean the way the mesh files spell them: YAML booleans, and the words istio-agent
 * (Go's strconv.ParseBool) and shell users write — true/false, t/f, 1/0, yes/no, any case.
 * Anything else is `undefined` so the caller can report it.
 */
export function parseBooleanWord(raw: unknown): boolean | undefined {
  if (typeof raw === 'boolean') return raw;
  if (raw === 1 || raw === 0) return raw === 1;
  if (typeof raw !== 'string') return undefined;
  const word = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return undefined;
}

const TRUE_WORDS = new Set(['true', 't', '1', 'yes']);
const FALSE_WORDS = new Set(['false', 'f', '0', 'no']);

export const BOOLEAN_WORDS_HINT = 'true/false, 1/0 or yes/no';
