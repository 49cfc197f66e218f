import { Parsed, Problem } from '../problem';
import { BOOLEAN_WORDS_HINT, parseBooleanWord } from './booleanWord';
import { isNamespaceName } from './dnsName';
import { BootstrapValues } from './types';
import { isIP } from 'node:net';

/** One variable as found in cluster.env or the mesh config's proxyMetadata. */
export interface BootstrapVariable {
  value: string;
  /** Where it was found, for problems: the dotted field and, in line formats, the line. */
  field: string;
  document?: number;
}

/** Looks a variable up by name; `undefined` when the input does not set it. */
export type BootstrapLookup = (name: string) => BootstrapVariable | undefined;

/**
 * ISTIO_NAMESPACE first: Istio's VM start script runs the agent with POD_NAMESPACE set to
 * ISTIO_NAMESPACE, so that is the namespace istiod sees for the VM (issue 17).
 */
export const NAMESPACE_VARIABLES = ['ISTIO_NAMESPACE', 'POD_NAMESPACE'] as const;
/** The VM's cluster (ClusterVIPs and same-named Services of other clusters, issue 17). */
export const CLUSTER_ID_VARIABLES = ['ISTIO_META_CLUSTER_ID', 'CLUSTER_ID'] as const;
/** The VM's own addresses, from which its IP families follow (`ipFamilies: auto`). */
export const INSTANCE_IP_VARIABLES = ['ISTIO_SVC_IP', 'INSTANCE_IPS'] as const;
export const DNS_CAPTURE_VARIABLE = 'ISTIO_META_DNS_CAPTURE';
export const DNS_AUTO_ALLOCATE_VARIABLE = 'ISTIO_META_DNS_AUTO_ALLOCATE';

/**
 * Takes the values meshdns uses from istioctl's variables. An empty value counts as unset
 * (istioctl writes `ISTIO_META_MESH_ID=''` for what it leaves open). A bad value is a problem and
 * is ignored, so the next source in precedence decides.
 */
export function extractBootstrapValues(lookup: BootstrapLookup, file: string): Parsed<BootstrapValues> {
  const value: BootstrapValues = {};
  const problems: Problem[] = [];
  const report = (variable: BootstrapVariable, message: string): void => {
    problems.push({ file, ...(variable.document === undefined ? {} : { document: variable.document }), field: variable.field, message, severity: 'error' });
  };

  for (const name of NAMESPACE_VARIABLES) {
    const variable = setVariable(lookup, name);
    if (variable === undefined) continue;
    const namespace = variable.value.trim();
    if (isNamespaceName(namespace)) {
      value.namespace = namespace;
      break;
    }
    report(variable, `${JSON.stringify(variable.value)} is not a Kubernetes namespace name; ignored`);
  }

  const readFlag = (name: string): boolean | undefined => {
    const variable = setVariable(lookup, name);
    if (variable === undefined) return undefined;
    const flag = parseBooleanWord(variable.value);
    if (flag === undefined) report(variable, `expected ${BOOLEAN_WORDS_HINT}, got ${JSON.stringify(variable.value)}; ignored`);
    return flag;
  };
  const dnsCapture = readFlag(DNS_CAPTURE_VARIABLE);
  if (dnsCapture !== undefined) value.dnsCapture = dnsCapture;
  const dnsAutoAllocate = readFlag(DNS_AUTO_ALLOCATE_VARIABLE);
  if (dnsAutoAllocate !== undefined) value.dnsAutoAllocate = dnsAutoAllocate;

  for (const name of CLUSTER_ID_VARIABLES) {
    const variable = setVariable(lookup, name);
    if (variable === undefined) continue;
    value.clusterId = variable.value.trim();
    break;
  }

  const instanceIps: string[] = [];
  for (const name of INSTANCE_IP_VARIABLES) {
    const variable = setVariable(lookup, name);
    if (variable === undefined) continue;
    for (const raw of variable.value.split(',')) {
      const ip = raw.trim();
      if (ip === '') continue;
      if (isIP(ip) === 0) report(variable, `${JSON.stringify(ip)} is not an IP address; ignored`);
      else instanceIps.push(ip);
    }
  }
  if (instanceIps.length > 0) value.instanceIps = instanceIps;

  return { value, problems };
}

function setVariable(lookup: BootstrapLookup, name: string): BootstrapVariable | undefined {
  const variable = lookup(name);
  return variable === undefined || variable.value.trim() === '' ? undefined : variable;
}
