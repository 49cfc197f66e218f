import { formatProblem } from './problem';
import { InputStore, buildTableFromSnapshot, type RegistrySources, type Snapshot } from './inputs';
import { tableRows, formatTableText, explainName } from './nametable';
import { loadVipState } from './registry/allocatorState';
import { VERSION } from './version';
import { bootstrapFromClusterEnv } from './config';
import { agentCapturesDns, readSidecarEvidence, sidecarConflict } from './system/istioSidecar';

export const DEFAULT_SETTINGS_FILE = '/etc/meshdns/meshdns.yaml';

const USAGE = `usage: meshdns <command> [options]

commands:
  run [--config FILE]                 serve DNS (the systemd service runs this)
  check [--config FILE]               validate every input; print each problem; exit 1 if any
  table [--config FILE] [--json]      print the name table as it would be served
  explain NAME [TYPE] [--config FILE] say how NAME would be answered, and from which file
  status                              summary of the running service
  restore-resolv-conf [--config FILE] put the original resolv.conf back (after a crash)
  version                             print the version

The settings file is --config, else $MESHDNS_CONFIG, else ${DEFAULT_SETTINGS_FILE}.`;

export interface CliArgs {
  command: string;
  positional: string[];
  config: string;
  json: boolean;
}

/** Parse argv (without node and script). Throws a UsageError on unknown options. */
export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliArgs {
  const positional: string[] = [];
  let config = env.MESHDNS_CONFIG !== undefined && env.MESHDNS_CONFIG !== '' ? env.MESHDNS_CONFIG : DEFAULT_SETTINGS_FILE;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--config' || arg === '-c') {
      const value = argv[++i];
      if (value === undefined) throw new UsageError(`${arg} needs a file path`);
      config = value;
    } else if (arg.startsWith('--config=')) {
      config = arg.slice('--config='.length);
    } else if (arg === '--json') {
      json = true;
    } else if (arg === '--help' || arg === '-h') {
      positional.unshift('help');
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new UsageError(`unknown option ${arg}`);
    } else {
      positional.push(arg);
    }
  }
  const command = positional.shift() ?? 'help';
  return { command, positional, config, json };
}

export class UsageError extends Error {}

type Out = (line: string) => void;

async function commandCheck(args: CliArgs, out: Out, err: Out): Promise<number> {
  const store = new InputStore({ settingsFile: args.config });
  const snapshot = await store.load();
  const state = await loadVipState(snapshot.settings.stateDir);
  const build = buildTableFromSnapshot(snapshot, state.allocations);
  const { istiodProblems } = await import('./istiod/check');
  const capture = agentCapturesDns(snapshot.clusterEnv.value && bootstrapFromClusterEnv(snapshot.clusterEnv.value).value.dnsCapture, snapshot.meshConfig.value?.dnsCapture);
  const sidecar = sidecarConflict(await readSidecarEvidence(capture), snapshot.settings.bootstrap.clusterEnv);
  const problems = [...snapshot.problems, ...state.problems, ...build.problems, ...(await istiodProblems(snapshot)), ...(sidecar === undefined ? [] : [sidecar])];
  for (const p of problems) err(formatProblem(p));
  const errors = problems.filter((p) => p.severity !== 'warning').length;
  const files = 1 + snapshot.registry.size + snapshot.hosts.size;
  out(`${errors === 0 ? 'ok' : 'problems found'}: ${files} file(s) read, ${build.recordCount} service record(s), ${build.table.size} name(s), ${errors} error(s), ${problems.length - errors} warning(s)`);
  return errors === 0 ? 0 : 1;
}

async function commandTable(args: CliArgs, out: Out, err: Out): Promise<number> {
  const store = new InputStore({ settingsFile: args.config });
  const snapshot = await store.load();
  const state = await loadVipState(snapshot.settings.stateDir);
  const build = buildTableFromSnapshot(snapshot, state.allocations, undefined, await istiodSourcesOf(snapshot));
  for (const p of [...snapshot.problems, ...state.problems, ...build.problems]) err(formatProblem(p));
  const rows = tableRows(build.table);
  if (args.json) out(JSON.stringify(rows, null, 2));
  else out(formatTableText(rows).trimEnd());
  return 0;
}

async function commandExplain(args: CliArgs, out: Out, err: Out): Promise<number> {
  const [name, type] = args.positional;
  if (name === undefined) {
    err('meshdns explain: give a NAME (and optionally a TYPE: A, AAAA, PTR, SRV, …)');
    return 2;
  }
  const store = new InputStore({ settingsFile: args.config });
  const snapshot = await store.load();
  const state = await loadVipState(snapshot.settings.stateDir);
  const build = buildTableFromSnapshot(snapshot, state.allocations, undefined, await istiodSourcesOf(snapshot));
  const families = snapshot.effective.families;
  const wanted = (type ?? 'A').toUpperCase();
  const familyLines =
    (wanted === 'AAAA' && !families.v6) || (wanted === 'A' && !families.v4)
      ? [`  the VM has no ${wanted === 'A' ? 'IPv4' : 'IPv6'} (${families.why}): service addresses and VIPs of that family are not served`]
      : [];
  for (const line of explainName(build.table, name, type ?? 'A', [...familyLines, ...build.scope.describe(name)])) out(line);
  const errors = snapshot.problems.filter((p) => p.severity !== 'warning').length;
  if (errors > 0) err(`note: ${errors} input problem(s); run \`meshdns check\` to see them`);
  return 0;
}

/** The istiod table the running service saved (table and explain do not connect to istiod). */
async function istiodSourcesOf(snapshot: Snapshot): Promise<RegistrySources | undefined> {
  const { savedIstiodSources } = await import('./istiod');
  return savedIstiodSources(snapshot);
}

/** A small GET (node:http: Node 18's fetch still prints an experimental warning). */
async function httpGet(url: string, timeoutMs: number): Promise<string> {
  const http = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (data += c));
      res.on('end', () => resolve(data));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

function formatDuration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d > 0 ? `${d}d${h}h` : h > 0 ? `${h}h${m}m` : `${m}m${seconds % 60}s`;
}

/** `meshdns status`: what the running service says about itself (its /status endpoint). */
async function commandStatus(args: CliArgs, out: Out, err: Out): Promise<number> {
  const store = new InputStore({ settingsFile: args.config });
  const snapshot = await store.load();
  const address = snapshot.settings.metrics;
  const { parseHostPort } = await import('./system/metrics/server');
  if (address === '' || parseHostPort(address) === undefined) {
    err('meshdns status: the metrics endpoint is off (`metrics: ""`); status is read from it');
    return 1;
  }
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(await httpGet(`http://${address}/status`, 2000)) as Record<string, unknown>;
  } catch (e) {
    err(`meshdns status: no running meshdns answers on ${address} (${(e as Error).message}); is the service started? (systemctl status meshdns)`);
    return 3;
  }
  if (args.json) {
    out(JSON.stringify(body, null, 2));
    return 0;
  }
  const s = body as {
    version: string; pid: number; uptimeSeconds: number; listen: string[];
    resolvConf: { state: string; externalRewrites: number; path?: string }; upstreams: string[];
    table: { names: number; sources: Record<string, number> };
    lastReload: { at: string; ms: number; added: number; removed: number; changed: number; errors: string[] } | null;
    cache: { hits: number; misses: number; entries: number; hitRate: number } | null;
    topFailingUpstream: { upstream: string; failures: number; timeouts: number; requests: number } | null;
    istiod?: { enabled?: boolean; why?: string; table: string; staleSince?: string; connected: boolean; address: string; istiodVersion?: string | null; version: string; names: number; pushes: number; nacks: number; reconnects: number; lastError: string | null; certificate?: { identity: string; notAfter: string; renewAt: string | null; expired: boolean } | null } | null;
  };
  out(`meshdns ${s.version} (pid ${s.pid}), up ${formatDuration(s.uptimeSeconds)}`);
  out(`  listening:   ${s.listen.join(', ')}`);
  out(`  resolv.conf: ${s.resolvConf.state}${s.resolvConf.path ? ` (${s.resolvConf.path})` : ''}${s.resolvConf.externalRewrites > 0 ? `, rewritten by others ${s.resolvConf.externalRewrites}x` : ''}`);
  out(`  upstreams:   ${s.upstreams.length > 0 ? s.upstreams.join(', ') : 'none (names outside the mesh get SERVFAIL)'}`);
  out(`  table:       ${s.table.names} names from ${Object.entries(s.table.sources).map(([k, v]) => `${v} ${k}`).join(', ')}`);
  if (s.lastReload !== null) {
    out(`  last reload: ${s.lastReload.at} in ${s.lastReload.ms} ms (+${s.lastReload.added} -${s.lastReload.removed} ~${s.lastReload.changed}), ${s.lastReload.errors.length} error(s)`);
    for (const e of s.lastReload.errors.slice(0, 10)) out(`    ${e}`);
  }
  if (s.cache !== null) out(`  cache:       ${s.cache.entries} entries, hit rate ${(s.cache.hitRate * 100).toFixed(1)}% (${s.cache.hits}/${s.cache.hits + s.cache.misses})`);
  if (s.istiod?.enabled === false) out(`  istiod:      off (${s.istiod.why ?? 'istiod.enabled'})`);
  else if (s.istiod !== null && s.istiod !== undefined) {
    const i = s.istiod;
    const table = i.table === 'live' ? 'live' : i.table === 'stale' ? `stale since ${i.staleSince ?? '?'}` : 'never received';
    out(`  istiod:      ${i.address || '(no address)'}${i.istiodVersion ? ` (istiod ${i.istiodVersion})` : ''} ${i.connected ? 'connected' : 'not connected'}; table ${table}, ${i.names} hosts, version ${i.version || '-'}, ${i.pushes} pushes, ${i.nacks} NACKs, ${i.reconnects} reconnects`);
    if (i.certificate !== null && i.certificate !== undefined) {
      const c = i.certificate;
      out(`    certificate ${c.identity}, ${c.expired ? 'expired at' : 'valid until'} ${c.notAfter}${c.renewAt === null || c.expired ? '' : `, renewal at ${c.renewAt}`}`);
    }
    if (i.lastError !== null) out(`    ${i.lastError}`);
  }
  out(`  failing:     ${s.topFailingUpstream === null ? 'no upstream failures' : `${s.topFailingUpstream.upstream}: ${s.topFailingUpstream.failures} failures (${s.topFailingUpstream.timeouts} timeouts) of ${s.topFailingUpstream.requests}`}`);
  return 0;
}

/**
 * `meshdns restore-resolv-conf` (the unit's ExecStopPost): put the original resolv.conf back
 * from the state dir when a capture marker is there (the same code as the start-up recovery).
 */
async function commandRestoreResolvConf(args: CliArgs, out: Out, err: Out): Promise<number> {
  const { ResolvConfManager } = await import('./system/resolvconf/manager');
  const snapshot = await new InputStore({ settingsFile: args.config }).load();
  const { path } = snapshot.settings.resolvConf;
  const { stateDir } = snapshot.settings;
  const manager = new ResolvConfManager({ path, stateDir });
  try {
    const result = await manager.recoverAtStart();
    if (result === 'nothing') out(`nothing to restore: no capture marker in ${stateDir}`);
    else if (result === 'restored') out(`restored the original resolv.conf (saved state in ${stateDir} removed)`);
    else out(`resolv.conf was replaced since meshdns captured it: kept the current file, removed the stale saved state from ${stateDir}`);
    return 0;
  } catch (e) {
    err(`meshdns: cannot restore resolv.conf: ${(e as Error).message}`);
    return 1;
  }
}

/** Entry point; returns the process exit code. */
export async function main(argv: readonly string[], out: Out = (l) => console.log(l), err: Out = (l) => console.error(l)): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`meshdns: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  switch (args.command) {
    case 'help':
      out(USAGE);
      return 0;
    case 'version':
      out(`meshdns ${VERSION}`);
      return 0;
    case 'check':
      return commandCheck(args, out, err);
    case 'table':
      return commandTable(args, out, err);
    case 'explain':
      return commandExplain(args, out, err);
    case 'status':
      return commandStatus(args, out, err);
    case 'restore-resolv-conf':
      return commandRestoreResolvConf(args, out, err);
    case 'run': {
      // Loaded lazily: the other commands need no sockets, pino or file watches.
      const { runService } = await import('./run');
      return runService(args.config);
    }
    default:
      err(`meshdns: unknown command "${args.command}"\n${USAGE}`);
      return 2;
  }
}
