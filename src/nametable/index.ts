export type { Lookup, NameInfo, NameOrigin, NameTable, SrvLookup } from './types';
export { TableBuilder } from './build';
export type { BuilderInputs, BuildResult, RegistryFileInput } from './build';
export { addressOfReverseName } from './reverse';
export { tableRows, formatTableText } from './rows';
export type { TableRow } from './rows';
export { explainName } from './explain';
