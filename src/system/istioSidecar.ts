import { execFile } from 'node:child_process';
import type { Problem } from '../problem';

/**
 * An Istio sidecar (`istio.service`, pilot-agent) on the same VM that captures DNS itself
 * (issue 17): its iptables rules send port-53 traffic for the resolv.conf servers to
 * pilot-agent's 15053, so which of the two answers depends on start order. The supported shapes
 * (README "Beside the Istio sidecar"): meshdns alone, or beside the sidecar with the agent's DNS
 * capture off. Evidence is read at the edge (`readSidecarEvidence`); the decision is pure.
 */
export interface SidecarEvidence {
  /** `systemctl is-active istio.service` said active. */
  istioActive: boolean;
  /** NAT rules redirecting port 53 to 15053 (`iptables-save -t nat`, ip6tables too), as text lines. */
  captureRules: string[];
  /** ISTIO_META_DNS_CAPTURE as cluster.env / the mesh config set it for the agent. */
  agentDnsCapture: boolean;
}

/** Rules of `iptables-save` output that send DNS (port 53) to pilot-agent's DNS proxy (15053). */
export function dnsCaptureRules(iptablesSave: string): string[] {
  return iptablesSave
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('-A ') && /--dport 53(\s|$)/.test(l) && /--to-ports? 15053(\s|$)/.test(l));
}

/** The warning for `check` and the start log, or undefined when there is no conflict. */
export function sidecarConflict(evidence: SidecarEvidence, clusterEnvFile: string): Problem | undefined {
  const rules = evidence.captureRules.length > 0;
  if (!rules && !(evidence.istioActive && evidence.agentDnsCapture)) return undefined;
  const seen = [
    evidence.istioActive ? 'istio.service is active' : '',
    rules ? `iptables sends port 53 to pilot-agent's 15053 (${evidence.captureRules.length} rule(s))` : '',
    evidence.agentDnsCapture ? 'ISTIO_META_DNS_CAPTURE is on' : '',
  ].filter((s) => s !== '');
  return {
    file: clusterEnvFile,
    field: 'ISTIO_META_DNS_CAPTURE',
    severity: 'warning',
    message:
      `the Istio sidecar captures DNS on this VM too (${seen.join('; ')}): pilot-agent and meshdns would both answer, whichever started last wins. ` +
      `Set ISTIO_META_DNS_CAPTURE='false' in cluster.env and restart istio.service (then set resolvConf.manage: true in meshdns.yaml, which otherwise follows that variable), or stop istio.service to run meshdns alone`,
  };
}

function run(file: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 2000 }, (error, stdout) => resolve(error === null || typeof stdout === 'string' ? String(stdout) : ''));
  });
}

/** Reads the evidence: systemctl and iptables-save, each best effort (missing tools, no root: nothing seen). */
export async function readSidecarEvidence(agentDnsCapture: boolean): Promise<SidecarEvidence> {
  const [active, nat4, nat6] = await Promise.all([
    run('systemctl', ['is-active', 'istio.service']),
    run('iptables-save', ['-t', 'nat']),
    run('ip6tables-save', ['-t', 'nat']),
  ]);
  return { istioActive: active.trim() === 'active', captureRules: [...dnsCaptureRules(nat4), ...dnsCaptureRules(nat6)], agentDnsCapture };
}

/**
 * Whether the agent captures DNS: ISTIO_META_DNS_CAPTURE as set for it (cluster.env, else the
 * mesh config's proxyMetadata); pilot-agent's own default is off.
 */
export function agentCapturesDns(clusterEnvCapture: boolean | undefined, meshCapture: boolean | undefined): boolean {
  return clusterEnvCapture ?? meshCapture ?? false;
}

/** At start: the conflict, if any, as one warning in the log (never fatal). */
export async function warnIfSidecarCaptures(log: { warn(obj: object, msg: string): void }, agentDnsCapture: boolean, clusterEnvFile: string): Promise<void> {
  const problem = sidecarConflict(await readSidecarEvidence(agentDnsCapture), clusterEnvFile);
  if (problem !== undefined) log.warn({ file: problem.file, field: problem.field }, `${problem.file}:${problem.field}: ${problem.message}`);
}
