/**
 * Child processes of the benchmark (servers, upstream): start, wait until they answer DNS, read
 * their CPU time and memory from /proc, stop them by PID. Every process started here is tracked
 * so that `stopAll` can end it even when the run fails half-way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Last lines of stdout+stderr, for the error message when it dies. */
  output(): string;
  exited(): boolean;
}

const running = new Set<Proc>();

export function startProcess(name: string, command: string, args: string[], cwd?: string): Proc {
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let hasExited = false;
  child.on('exit', () => {
    hasExited = true;
  });
  child.on('error', (err) => {
    hasExited = true;
    tail += `\n${err.message}`;
  });
  const proc: Proc = { name, child, pid: child.pid, output: () => tail, exited: () => hasExited };
  running.add(proc);
  return proc;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(proc: Proc, graceMs = 5000): Promise<void> {
  running.delete(proc);
  if (proc.exited()) return;
  const gone = new Promise<void>((resolve) => proc.child.once('exit', () => resolve()));
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (!proc.exited()) proc.child.kill('SIGKILL');
  }, graceMs);
  await gone;
  clearTimeout(timer);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => stopProcess(p, 2000)));
}

/** A DNS query for `name` (A, RD) with the given ID. */
export function dnsQuery(name: string, id: number, qtype = 1): Buffer {
  const labels = name.split('.').filter((l) => l !== '');
  const parts: Buffer[] = [Buffer.from([id >> 8, id & 255, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const l of labels) parts.push(Buffer.from([l.length]), Buffer.from(l, 'ascii'));
  parts.push(Buffer.from([0, qtype >> 8, qtype & 255, 0, 1]));
  return Buffer.concat(parts);
}

/**
 * Send `name` A every `intervalMs` until a NOERROR answer with records (any response with
 * `anyAnswer`) arrives. Resolves
 * with the milliseconds from `since` (default: now) to that answer; rejects after `timeoutMs`
 * or when `proc` dies.
 */
export function waitUntilAnswering(
  proc: Proc,
  address: string,
  port: number,
  name: string,
  opts: { timeoutMs?: number; intervalMs?: number; since?: number; anyAnswer?: boolean } = {},
): Promise<number> {
  const since = opts.since ?? performance.now();
  const timeoutMs = opts.timeoutMs ?? 15000;
  const intervalMs = opts.intervalMs ?? 2;
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    let id = 1;
    let done = false;
    const finish = (err: Error | undefined, ms?: number): void => {
      if (done) return;
      done = true;
      clearInterval(tick);
      sock.close();
      if (err) reject(err);
      else resolve(ms ?? 0);
    };
    sock.on('message', (msg) => {
      // Any answer to one of our IDs with RCODE NOERROR and at least one answer record.
      if (msg.length >= 12 && (msg[2] & 0x80) !== 0 && (msg[3] & 15) === 0 && (opts.anyAnswer || msg.readUInt16BE(6) > 0)) {
        finish(undefined, performance.now() - since);
      }
    });
    sock.on('error', () => undefined);
    const tick = setInterval(() => {
      if (proc.exited()) return finish(new Error(`${proc.name} exited before answering:\n${proc.output()}`));
      if (performance.now() - since > timeoutMs) return finish(new Error(`${proc.name} did not answer ${name} within ${timeoutMs} ms:\n${proc.output()}`));
      id = (id + 1) & 0xffff;
      sock.send(dnsQuery(name, id), port, address);
    }, intervalMs);
  });
}

const CLOCK_TICKS = 100; // Linux USER_HZ on every architecture Node runs on

/** utime + stime of a process, in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after "pid (comm)" start at field 3 (state); utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

export interface Memory {
  rssMiB: number;
  hwmMiB: number;
  /** Resident pages only this process maps (USS): RSS without the node binary's pages other processes share. */
  privateMiB: number;
}

export function memory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (text: string, key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return { rssMiB: kb(status, 'VmRSS') / 1024, hwmMiB: kb(status, 'VmHWM') / 1024, privateMiB: (kb(rollup, 'Private_Clean') + kb(rollup, 'Private_Dirty')) / 1024 };
}

/**
 * A port that is free on `address` for UDP right now (the servers bind it a moment later). Taken
 * below the ephemeral range (32768+) so that it cannot collide with a client's source port.
 */
export async function freePort(address: string): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const free = await new Promise<boolean>((resolve) => {
      const sock = createSocket('udp4');
      sock.on('error', () => resolve(false));
      sock.bind(port, address, () => sock.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free UDP port found on ${address}`);
}
