import { Parsed, Problem } from '../problem';
import { BootstrapVariable, CLUSTER_ID_VARIABLES, INSTANCE_IP_VARIABLES, DNS_AUTO_ALLOCATE_VARIABLE, DNS_CAPTURE_VARIABLE, NAMESPACE_VARIABLES, extractBootstrapValues } from './bootstrapValues';
import { describeValue, isMap } from './check';
import { BootstrapValues } from './types';
import { loadYamlDocument } from './yamlDocument';
import { readMeshScope } from './meshScope';

const USED_VARIABLES = new Set<string>([...NAMESPACE_VARIABLES, ...CLUSTER_ID_VARIABLES, ...INSTANCE_IP_VARIABLES, DNS_CAPTURE_VARIABLE, DNS_AUTO_ALLOCATE_VARIABLE]);

/**
 * Reads the mesh config (a MeshConfig document, `defaultConfig:` at the top, as istioctl writes
 * mesh.yaml; or the `istio` ConfigMap with the MeshConfig under `data.mesh`) and takes the
 * variables meshdns uses from `defaultConfig.proxyMetadata`. Everything else is ignored. An empty
 * file sets nothing.
 */
export function parseMeshConfig(text: string, file: string): Parsed<BootstrapValues> {
  const loaded = loadYamlDocument(text, file);
  if (loaded.problems.length > 0) return { value: {}, problems: loaded.problems };
  const root = loaded.value;
  if (root === undefined || root === null) return { value: {}, problems: [] };
  if (!isMap(root)) return fail(file, undefined, `the mesh config must be a map (MeshConfig), got ${describeValue(root)}`);
  if (root.kind === 'ConfigMap') return parseConfigMap(root, file);
  return fromMeshConfig(root, '', file);
}

function parseConfigMap(configMap: Record<string, unknown>, file: string): Parsed<BootstrapValues> {
  const data = configMap.data;
  const mesh = isMap(data) ? data.mesh : undefined;
  if (mesh === undefined || mesh === null) return { value: {}, problems: [] };
  if (typeof mesh !== 'string') return fail(file, 'data.mesh', `expected the MeshConfig as a YAML string, got ${describeValue(mesh)}`);
  const loaded = loadYamlDocument(mesh, file);
  if (loaded.problems.length > 0) return { value: {}, problems: loaded.problems.map((p) => ({ ...p, field: 'data.mesh' })) };
  if (loaded.value === undefined || loaded.value === null) return { value: {}, problems: [] };
  if (!isMap(loaded.value)) return fail(file, 'data.mesh', `the MeshConfig must be a map, got ${describeValue(loaded.value)}`);
  return fromMeshConfig(loaded.value, 'data.mesh.', file);
}

function fromMeshConfig(meshConfig: Record<string, unknown>, prefix: string, file: string): Parsed<BootstrapValues> {
  const scope = readMeshScope(meshConfig, prefix, file);
  const proxy = proxyMetadataValues(meshConfig, prefix, file);
  return { value: { ...scope.value, ...proxy.value }, problems: [...scope.problems, ...proxy.problems] };
}

function proxyMetadataValues(meshConfig: Record<string, unknown>, prefix: string, file: string): Parsed<BootstrapValues> {
  const defaultConfig = meshConfig.defaultConfig;
  if (defaultConfig === undefined || defaultConfig === null) return { value: {}, problems: [] };
  if (!isMap(defaultConfig)) return fail(file, `${prefix}defaultConfig`, `must be a map, got ${describeValue(defaultConfig)}`);
  const metadata = defaultConfig.proxyMetadata;
  const metadataField = `${prefix}defaultConfig.proxyMetadata`;
  if (metadata === undefined || metadata === null) return { value: {}, problems: [] };
  if (!isMap(metadata)) return fail(file, metadataField, `must be a map of variables, got ${describeValue(metadata)}`);

  const problems: Problem[] = [];
  const lookup = (name: string): BootstrapVariable | undefined => {
    if (!Object.prototype.hasOwnProperty.call(metadata, name)) return undefined;
    const raw = metadata[name];
    const field = `${metadataField}.${name}`;
    if (raw === null) return undefined;
    // proxyMetadata values are strings; YAML turns unquoted true/1 into other scalars.
    if (typeof raw === 'string' || typeof raw === 'boolean' || typeof raw === 'number') return { value: String(raw), field };
    if (USED_VARIABLES.has(name)) problems.push({ file, field, message: `expected a string, got ${describeValue(raw)}; ignored`, severity: 'error' });
    return undefined;
  };
  const extracted = extractBootstrapValues(lookup, file);
  return { value: extracted.value, problems: [...problems, ...extracted.problems] };
}

function fail(file: string, field: string | undefined, message: string): Parsed<BootstrapValues> {
  return { value: {}, problems: [{ file, ...(field === undefined ? {} : { field }), message, severity: 'error' }] };
}
