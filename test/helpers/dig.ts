import { execFile } from 'child_process';

/**
 * Runs `dig` (BIND) or `kdig` (Knot) against a local server and parses what tests need.
 * A missing tool is an error (tests must fail, not skip, without it).
 */

export interface DigOptions {
  port: number;
  name: string;
  type?: string;
  server?: string;
  tool?: 'dig' | 'kdig';
  tcp?: boolean;
  /** Send EDNS (dig's default is yes, kdig's is no; this makes it explicit when set). */
  edns?: boolean;
  /** EDNS UDP payload size to advertise (implies EDNS). */
  bufsize?: number;
  /** Set the DO bit. */
  dnssec?: boolean;
  /** Do not retry over TCP when the reply has TC=1. */
  ignoreTruncation?: boolean;
  /** Recursion desired; default the tool's (yes). */
  recurse?: boolean;
  /** Checking disabled (CD) in the query; default the tool's (no). */
  cd?: boolean;
  /** EDNS version to send (implies EDNS; dig's version negotiation is turned off so the reply is shown as it came). */
  ednsVersion?: number;
  timeoutSeconds?: number;
  extraArgs?: string[];
}

export interface DigRecord {
  name: string;
  ttl: number;
  class: string;
  type: string;
  data: string;
}

export interface DigResult {
  /** NOERROR, NXDOMAIN, SERVFAIL, …; 'NO-REPLY' when nothing came back. */
  status: string;
  id: number | null;
  /** Header flags in lower case: qr, aa, tc, rd, ra, ad, cd. */
  flags: string[];
  /** EDNS payload size of the reply's OPT, or null when the reply had no OPT. */
  ednsUdpSize: number | null;
  /** EDNS flags of the reply's OPT (e.g. ['do']), null without an OPT. */
  ednsFlags: string[] | null;
  /** The lines of the OPT pseudosection (the EDNS line, then one per option and any MBZ note). */
  optLines: string[];
  answers: DigRecord[];
  authority: DigRecord[];
  additional: DigRecord[];
  /** Message size the tool reports, if it did. */
  size: number | null;
  raw: string;
}

export async function dig(options: DigOptions): Promise<DigResult> {
  const tool = options.tool ?? 'dig';
  const server = options.server ?? '127.0.0.1';
  const timeout = options.timeoutSeconds ?? 2;
  const args = [`@${server}`, '-p', String(options.port), options.name, options.type ?? 'A'];
  if (tool === 'dig') args.push(`+time=${timeout}`, '+tries=1');
  else args.push(`+time=${timeout}`, '+retry=0');
  if (options.tcp) args.push('+tcp');
  if (options.edns === false) args.push('+noedns');
  if (options.edns === true && tool === 'kdig') args.push('+edns');
  if (options.bufsize !== undefined) args.push(`+bufsize=${options.bufsize}`);
  if (options.dnssec) args.push('+dnssec');
  if (options.ignoreTruncation) args.push('+ignore');
  if (options.recurse === false) args.push('+norecurse');
  if (options.cd !== undefined) args.push(options.cd ? '+cdflag' : '+nocdflag');
  if (options.ednsVersion !== undefined) args.push(`+edns=${options.ednsVersion}`, ...(tool === 'dig' ? ['+noednsneg'] : []));
  args.push(...(options.extraArgs ?? []));

  const raw = await new Promise<string>((resolve, reject) => {
    execFile(tool, args, { timeout: (timeout + 5) * 1000 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error(`${tool} is not installed (Debian: apt-get install ${tool === 'dig' ? 'dnsutils' : 'knot-dnsutils'})`));
        return;
      }
      // A timeout is a normal result for tests (exit 9 for dig, 1 for kdig): parse what there is.
      resolve(`${stdout}\n${stderr}`);
    });
  });
  return parseDigOutput(raw);
}

/** Parses dig and kdig presentation output (both header styles). */
export function parseDigOutput(raw: string): DigResult {
  const header = /->>HEADER<<- opcode: \w+[,;] status: ([A-Z0-9-]+)[,;] id: (\d+)/.exec(raw);
  const flagLine = /;; [Ff]lags: ([a-z ]*);/.exec(raw);
  const digOpt = /; EDNS: version: \d+, flags:[^;]*; udp: (\d+)/.exec(raw);
  const kdigOpt = /;; Version: \d+; flags:[^;]*; UDP size: (\d+) B/.exec(raw);
  const size = /MSG SIZE\s+rcvd: (\d+)|;; Received (\d+) B/.exec(raw);
  const opt = digOpt ?? kdigOpt;
  const ednsFlags = /; EDNS: version: \d+, flags:([^;]*);|;; Version: \d+; flags:([^;]*);/.exec(raw);
  return {
    status: header === null ? 'NO-REPLY' : header[1],
    id: header === null ? null : Number(header[2]),
    flags: flagLine === null ? [] : flagLine[1].trim().split(/\s+/).filter((f) => f !== ''),
    ednsUdpSize: opt === null ? null : Number(opt[1]),
    ednsFlags: ednsFlags === null ? null : (ednsFlags[1] ?? ednsFlags[2]).trim().split(/\s+/).filter((f) => f !== ''),
    optLines: sectionLines(raw, /^;; (OPT|EDNS) PSEUDOSECTION:/),
    answers: section(raw, 'ANSWER'),
    authority: section(raw, 'AUTHORITY'),
    additional: section(raw, 'ADDITIONAL'),
    size: size === null ? null : Number(size[1] ?? size[2]),
    raw,
  };
}

function sectionLines(raw: string, title: RegExp): string[] {
  const lines = raw.split('\n');
  const start = lines.findIndex((l) => title.test(l));
  if (start < 0) return [];
  // dig ends the pseudosection with a blank line, kdig with the next ";; … SECTION:" header.
  const end = lines.findIndex((l, i) => i > start && (l.trim() === '' || l.startsWith(';; ')));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

function section(raw: string, title: string): DigRecord[] {
  const lines = raw.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`;; ${title} SECTION:`));
  if (start < 0) return [];
  const records: DigRecord[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '' || line.startsWith(';')) break;
    const [name, ttl, cls, type, ...data] = line.trim().split(/\s+/);
    records.push({ name, ttl: Number(ttl), class: cls, type, data: data.join(' ') });
  }
  return records;
}
