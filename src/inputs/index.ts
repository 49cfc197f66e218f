export { InputStore, nextSlot } from './store';
export type { FileSlot, InputStoreOptions, Snapshot } from './store';
export { buildTableFromSnapshot } from './table';
export type { TableBuild } from './table';
