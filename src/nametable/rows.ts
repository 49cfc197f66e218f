import type { NameInfo, NameTable } from './types';

/** One line of `meshdns table`: a name, one record type, its addresses and where they came from. */
export interface TableRow {
  name: string;
  type: 'A' | 'AAAA';
  addresses: string[];
  /** The FQDN the name is a form of (equal to name for FQDNs). */
  canonical: string;
  sources: string[];
}

function describeSources(info: NameInfo): string[] {
  return info.origins.map((o) => {
    const where = `${o.source.file}#${o.source.document}`;
    if (o.kind === 'hosts') return `${where} hosts`;
    return `${where} ${o.kind} ${o.source.namespace}/${o.source.name} (${o.via})`;
  });
}

/** Every (name, type) the table answers, sorted by name then type. */
export function tableRows(table: NameTable): TableRow[] {
  const rows: TableRow[] = [];
  for (const info of table.entries()) {
    const sources = describeSources(info);
    if (info.v4.length > 0) rows.push({ name: info.name, type: 'A', addresses: [...info.v4], canonical: info.canonical, sources });
    if (info.v6.length > 0) rows.push({ name: info.name, type: 'AAAA', addresses: [...info.v6], canonical: info.canonical, sources });
  }
  rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  return rows;
}

/** Aligned text columns for humans. */
export function formatTableText(rows: readonly TableRow[]): string {
  const width = rows.reduce((w, r) => Math.max(w, r.name.length), 4);
  const lines = [`${'NAME'.padEnd(width)}  TYPE  ADDRESSES  SOURCE`];
  for (const r of rows) {
    lines.push(`${r.name.padEnd(width)}  ${r.type.padEnd(4)}  ${r.addresses.join(',')}  ${r.sources.join('; ')}`);
  }
  return lines.join('\n') + '\n';
}
