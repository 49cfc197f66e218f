/**
 * Summarize a V8 `.cpuprofile` (from `node --cpu-prof`): the functions with the most self time.
 * Usage: `node dist/bench/cpuprofile-top.js FILE.cpuprofile [N]`.
 *
 * Self time of a node = the sum of the sample intervals whose leaf is that node; nodes of the
 * same function (same name, script and line) are added up. Shares are of the busy time, i.e.
 * without "(idle)", so they say where the CPU went while it worked.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTimeRow {
  name: string;
  where: string;
  selfMs: number;
  /** Share of busy (non-idle) time, 0..1. */
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  busyMs: number;
  rows: SelfTimeRow[];
}

function shortUrl(url: string): string {
  if (url === '') return '';
  const i = url.lastIndexOf('/node_modules/');
  if (i >= 0) return url.slice(i + 1);
  const d = url.indexOf('/dist/');
  if (d >= 0) return url.slice(d + 6);
  return url.replace(/^file:\/\//, '');
}

export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);
  const selfUs = new Map<string, { name: string; where: string; us: number }>();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the interval that follows it instead
    // where possible (what the sample actually observed), which is the convention of DevTools.
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const node = byId.get(profile.samples[i]);
    if (node === undefined || dt <= 0) continue;
    const f = node.callFrame;
    const rawName = f.functionName || '(anonymous)';
    // Regular expressions are named by their source, which can be kilobytes long.
    const name = rawName.length > 80 ? `${rawName.slice(0, 77)}...` : rawName;
    const where = f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const row = selfUs.get(key) ?? { name, where, us: 0 };
    row.us += dt;
    selfUs.set(key, row);
    total += dt;
    if (name === '(idle)') idle += dt;
  }
  const busy = total - idle;
  const rows = [...selfUs.values()]
    .filter((r) => r.name !== '(idle)')
    .sort((a, b) => b.us - a.us)
    .map((r) => ({ name: r.name, where: r.where, selfMs: r.us / 1000, share: busy > 0 ? r.us / busy : 0 }));
  return { totalMs: total / 1000, busyMs: busy / 1000, rows };
}

export function formatSummary(summary: ProfileSummary, top: number): string {
  const lines = [
    `profile: ${summary.totalMs.toFixed(0)} ms sampled, ${summary.busyMs.toFixed(0)} ms busy (not idle)`,
    '| # | self ms | share of busy | function | where |',
    '|---|---|---|---|---|',
  ];
  summary.rows.slice(0, top).forEach((r, i) => {
    lines.push(`| ${i + 1} | ${r.selfMs.toFixed(0)} | ${(r.share * 100).toFixed(1)}% | \`${r.name}\` | ${r.where} |`);
  });
  return lines.join('\n');
}

export function summarizeFile(file: string, top: number): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  return formatSummary(summarizeProfile(profile), top);
}

if (require.main === module) {
  const [file, n] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node dist/bench/cpuprofile-top.js FILE.cpuprofile [N]');
    process.exitCode = 2;
  } else {
    console.log(summarizeFile(file, Number(n ?? 15)));
  }
}
