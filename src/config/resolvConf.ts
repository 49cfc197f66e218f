import { isIP } from 'node:net';

/** What meshdns takes from a resolv.conf(5). */
export interface ResolvConf {
  nameservers: string[];
  /** `search` (or `domain`, when no search line follows it), in order, as written (trailing dots kept). */
  search: string[];
  /** The `options` lines' words, as written. */
  options: string[];
  /** `options timeout:N` in seconds, when set. */
  timeoutSeconds?: number;
  /** `options attempts:N`, when set. */
  attempts?: number;
}

/**
 * Parse resolv.conf the way glibc does: the last `search`/`domain` line wins, up to 3
 * nameservers are used (we keep all and let the caller decide), `#` and `;` start comments.
 */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], search: [], options: [] };
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const words = line.split(/\s+/);
    const keyword = words[0];
    const args = words.slice(1).filter((w) => !w.startsWith('#') && !w.startsWith(';'));
    switch (keyword) {
      case 'nameserver': {
        // glibc accepts a scope id on link-local IPv6 (fe80::1%eth0); we keep it verbatim.
        const addr = args[0];
        if (addr !== undefined && isIP(addr.split('%')[0]) !== 0) out.nameservers.push(addr);
        break;
      }
      case 'search':
        out.search = args;
        break;
      case 'domain':
        out.search = args.slice(0, 1);
        break;
      case 'options':
        for (const opt of args) {
          out.options.push(opt);
          const m = /^(timeout|attempts):(\d+)$/.exec(opt);
          if (m !== null) {
            if (m[1] === 'timeout') out.timeoutSeconds = Math.min(Number(m[2]), 30);
            else out.attempts = Math.min(Number(m[2]), 5);
          }
        }
        break;
      default:
        break;
    }
  }
  return out;
}

/** Search domains without trailing dots, lower-case: the form the name table matches against. */
export function normalizedSearchDomains(conf: ResolvConf): string[] {
  return conf.search.map((d) => d.toLowerCase().replace(/\.$/, '')).filter((d) => d !== '');
}
