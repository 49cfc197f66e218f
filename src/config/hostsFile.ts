import { isIP } from 'node:net';
import { Parsed, Problem } from '../problem';
import { normalizeDnsName } from './dnsName';
import { canonicalIpv6 } from './hostPort';
import { HostsEntry } from './types';

/**
 * Reads a hosts(5) file: an address, then one or more names, separated by spaces or tabs; `#`
 * starts a comment anywhere. Names are lowercased without the trailing dot; IPv6 addresses are
 * canonical. A bad address drops its line; a bad name drops only that name. Each is a problem
 * with document = line number.
 */
export function parseHostsFile(text: string, file: string): Parsed<HostsEntry[]> {
  const entries: HostsEntry[] = [];
  const problems: Problem[] = [];
  text.split(/\r?\n/).forEach((rawLine, index) => {
    const line = index + 1;
    const hash = rawLine.indexOf('#');
    const content = (hash < 0 ? rawLine : rawLine.slice(0, hash)).replace(/^\uFEFF/, '').trim();
    if (content === '') return;
    const [addressText, ...nameTexts] = content.split(/\s+/);
    const report = (message: string): void => {
      problems.push({ file, document: line, message, severity: 'error' });
    };

    const address = readAddress(addressText);
    if (typeof address !== 'string') return report(address.reason);
    if (nameTexts.length === 0) return report(`address ${addressText} has no names after it`);

    const names: string[] = [];
    for (const nameText of nameTexts) {
      const name = normalizeDnsName(nameText);
      if (!name.ok) report(`${name.reason}; name ignored`);
      else if (!names.includes(name.value)) names.push(name.value);
    }
    if (names.length > 0) entries.push({ address, names, line });
  });
  return { value: entries, problems };
}

function readAddress(text: string): string | { reason: string } {
  if (text.includes('%')) return { reason: `${JSON.stringify(text)}: zone ids ("%eth0") cannot be served in DNS answers; line ignored` };
  const family = isIP(text);
  if (family === 4) return text;
  if (family === 6) return canonicalIpv6(text);
  return { reason: `${JSON.stringify(text)} is not an IPv4 or IPv6 address; line ignored` };
}
