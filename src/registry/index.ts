// Registry: manifests → typed service records (docs/ARCHITECTURE.md §1, §2). Everything but load.ts is pure.
export type * from './types';
export type { DocumentRef } from './location';
export type { SplitDocument } from './documents';
export type { RegistryFileList } from './load';
export { splitDocuments } from './documents';
export { parseService } from './service';
export { parseServiceEntry, SERVICE_ENTRY_API_VERSIONS, AUTO_ALLOCATE_LABEL } from './serviceEntry';
export { parseEndpointSlice, parseEndpoints, SERVICE_NAME_LABEL } from './endpoints';
export { parseRegistryText } from './parseFile';
export { attachEndpoints, mergeEndpoints } from './attach';
export { listRegistryFiles, readRegistryFile, isIgnoredName, REGISTRY_TREE_RULES } from './load';
export { canonicalIp } from './ip';
