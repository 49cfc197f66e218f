import { formatProblem } from './problem';
import { InputStore, buildTableFromSnapshot } from './inputs';
import { tableRows, formatTableText } from './nametable';
import { loadVipState } from './registry/allocatorState';
import { VERSION } from './version';

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
  const problems = [...snapshot.problems, ...state.problems, ...build.problems];
  for (const p of problems) err(formatProblem(p));
  const errors = problems.filter((p) => p.severity !== 'warning').length;
  const files = 1 + snapshot.registry.size + snapshot.hosts.size;
  out(`${errors === 0 ? 'ok' : 'problems found'}: ${files} file(s) read, ${build.records.length} service record(s), ${build.table.size} name(s), ${errors} error(s), ${problems.length - errors} warning(s)`);
  return errors === 0 ? 0 : 1;
}

async function commandTable(args: CliArgs, out: Out, err: Out): Promise<number> {
  const store = new InputStore({ settingsFile: args.config });
  const snapshot = await store.load();
  const state = await loadVipState(snapshot.settings.stateDir);
  const build = buildTableFromSnapshot(snapshot, state.allocations);
  for (const p of [...snapshot.problems, ...state.problems, ...build.problems]) err(formatProblem(p));
  const rows = tableRows(build.table);
  if (args.json) out(JSON.stringify(rows, null, 2));
  else out(formatTableText(rows).trimEnd());
  return 0;
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
    case 'run': {
      // Loaded lazily: the other commands need no sockets, pino or chokidar.
      const { runService } = await import('./service');
      return runService(args.config);
    }
    default:
      err(`meshdns: unknown command "${args.command}"\n${USAGE}`);
      return 2;
  }
}
