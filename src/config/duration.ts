import { Check, accept, describeValue, refuse } from './check';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)/y;
const BARE_SECONDS = /^(\d+(?:\.\d+)?|\.\d+)$/;
/** setTimeout's ceiling: anything longer fires at once, so it is refused here. */
const MAX_MS = 2_147_483_647;

/**
 * A positive duration in whole milliseconds from `2s`, `500ms`, `1.5s`, `1m30s`, or a number of
 * seconds (`2`, `0.5`, as a YAML number or a string).
 */
export function parseDuration(raw: unknown): Check<number> {
  const ms = typeof raw === 'number' ? raw * 1000 : typeof raw === 'string' ? durationTextMs(raw.trim()) : undefined;
  if (ms === undefined || !Number.isFinite(ms)) {
    return refuse(`expected a duration such as "2s", "500ms" or a number of seconds, got ${describeValue(raw)}`);
  }
  const rounded = Math.round(ms);
  if (rounded < 1) return refuse(`duration must be at least 1ms, got ${describeValue(raw)}`);
  if (rounded > MAX_MS) return refuse(`duration must be at most ${MAX_MS}ms, got ${describeValue(raw)}`);
  return accept(rounded);
}

function durationTextMs(text: string): number | undefined {
  if (BARE_SECONDS.test(text)) return Number(text) * 1000;
  if (text === '') return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const match = PART.exec(text);
    if (match === null) return undefined;
    total += Number(match[1]) * UNIT_MS[match[2]];
  }
  return total;
}
