import * as jsYaml from 'js-yaml';
import type { Type } from 'js-yaml';

/** js-yaml's built-in types (exported at run time as `types`; @types/js-yaml does not declare it). */
export const yamlTypes = (jsYaml as unknown as { types: { merge: Type; timestamp: Type } }).types;
