export { InputStore, nextSlot } from './store';
export type { FileSlot, InputStoreOptions, Snapshot } from './store';
export { buildTableFromSnapshot } from './table';
export type { RegistrySources, TableBuild } from './table';
