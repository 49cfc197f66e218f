import type { NameInfo, NameTable } from './types';

const TYPE_CODES: Record<string, number> = { A: 1, AAAA: 28, PTR: 12, SRV: 33 };

function origins(info: NameInfo): string[] {
  return info.origins.map((o) =>
    o.kind === 'hosts'
      ? `  from ${o.source.file} line ${o.source.document} (hosts file)`
      : `  from ${o.source.file} document ${o.source.document}: ${o.kind} ${o.source.namespace}/${o.source.name} (${o.via})`,
  );
}

function addresses(info: NameInfo, type: string, owner: string): string[] {
  const list = type === 'A' ? info.v4 : info.v6;
  if (list.length === 0) return [`  no ${type} address: NOERROR with an empty answer (NODATA), never NXDOMAIN`];
  return list.map((a) => `  ${owner} ${type} ${a}`);
}

/**
 * How meshdns answers NAME/TYPE from this table, in words (for `meshdns explain`). Pure: the
 * same rules the mesh handler applies, without the network. `scopeLines`: what the VM does not
 * get for this name and why (hidden records, records that lost the host; scope.ts).
 */
export function explainName(table: NameTable, rawName: string, rawType = 'A', scopeLines: readonly string[] = []): string[] {
  return [...explainFromTable(table, rawName, rawType), ...scopeLines];
}

function explainFromTable(table: NameTable, rawName: string, rawType: string): string[] {
  const type = rawType.toUpperCase();
  const name = rawName.toLowerCase().replace(/\.$/, '');
  const head = `${name} ${type}:`;
  if (!(type in TYPE_CODES)) {
    const known = table.lookup(name);
    return known === undefined
      ? [head, '  forwarded upstream: not a mesh name']
      : [head, `  forwarded upstream: ${name} is a mesh name, but only A, AAAA, PTR and SRV are answered locally (as Istio does)`];
  }
  if (type === 'PTR') {
    const target = table.lookupPtr(name);
    return target === undefined ? [head, '  forwarded upstream: not the reverse name of a mesh address'] : [head, `  answered locally: PTR ${target}`];
  }
  if (type === 'SRV') {
    const srv = table.lookupSrv(name);
    if (srv === undefined) return [head, '  forwarded upstream: not _port._proto of a mesh name with that named port'];
    return [head, `  answered locally: SRV 0 100 ${srv.port.port} ${srv.target} (port "${srv.port.name}", ${srv.port.transport})`, ...origins(srv.info)];
  }
  const found = table.lookup(name);
  if (found === undefined) return [head, '  forwarded upstream: not in the mesh name table'];
  const info = found.info;
  switch (found.kind) {
    case 'name':
      return [
        head,
        info.name === info.canonical
          ? `  answered locally: ${name} is in the table`
          : `  answered locally: ${name} is a short form of ${info.canonical}`,
        ...addresses(info, type, name),
        ...origins(info),
      ];
    case 'wildcard':
      return [head, `  answered locally by the wildcard ${info.name}, under the query name`, ...addresses(info, type, name), ...origins(info)];
    case 'search':
      return [
        head,
        `  answered locally: search-domain walk, ${found.target} + search domain ${found.searchDomain}${found.viaWildcard ? ` (matched by the wildcard ${info.name})` : ''}`,
        ...((type === 'A' ? info.v4 : info.v6).length > 0 ? [`  ${name} CNAME ${found.target}`] : []),
        ...addresses(info, type, found.target),
        ...origins(info),
      ];
  }
}
