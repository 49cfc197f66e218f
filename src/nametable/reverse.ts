import { canonicalIp } from '../registry/ip';

/**
 * The address a reverse name stands for, in the canonical text form the table uses
 * (`1.0.240.240.in-addr.arpa` → `240.240.0.1`; 32 nibbles of ip6.arpa → compressed IPv6), or
 * undefined when the name is not a complete reverse name of one address.
 */
export function addressOfReverseName(name: string): string | undefined {
  if (name.endsWith('.in-addr.arpa')) {
    const labels = name.slice(0, -'.in-addr.arpa'.length).split('.');
    if (labels.length !== 4) return undefined;
    for (const l of labels) if (!/^(0|[1-9]\d{0,2})$/.test(l) || Number(l) > 255) return undefined;
    return labels.reverse().join('.');
  }
  if (name.endsWith('.ip6.arpa')) {
    const nibbles = name.slice(0, -'.ip6.arpa'.length).split('.');
    if (nibbles.length !== 32 || !nibbles.every((n) => /^[0-9a-f]$/.test(n))) return undefined;
    const hex = nibbles.reverse().join('');
    const groups: string[] = [];
    for (let i = 0; i < 32; i += 4) groups.push(hex.slice(i, i + 4));
    // The registry's canonical form, so the text matches the table's addresses.
    return canonicalIp(groups.join(':'));
  }
  return undefined;
}
