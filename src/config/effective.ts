import { isIP } from 'node:net';
import { BootstrapValues, EffectiveConfig, IpFamilies, Settings } from './types';

/**
 * Applies the precedence of docs/ARCHITECTURE.md §1: the settings file (only keys it set) > cluster.env >
 * mesh config > defaults. DNS capture defaults to on, as istioctl does; auto-allocation too.
 */
export function resolveEffectiveConfig(
  settings: Settings,
  clusterEnv: BootstrapValues | undefined,
  mesh: BootstrapValues | undefined,
  hostAddresses: readonly string[] = [],
): EffectiveConfig {
  const settingsNamespace = settings.explicit.has('namespace') && settings.namespace !== '' ? settings.namespace : undefined;
  const settingsAutoAllocate = settings.explicit.has('autoAllocate') ? settings.autoAllocate : undefined;
  return {
    settings,
    namespace: settingsNamespace ?? clusterEnv?.namespace ?? mesh?.namespace ?? 'default',
    dnsCapture: clusterEnv?.dnsCapture ?? mesh?.dnsCapture ?? true,
    autoAllocate: settingsAutoAllocate ?? clusterEnv?.dnsAutoAllocate ?? mesh?.dnsAutoAllocate ?? true,
    clusterId: clusterEnv?.clusterId ?? mesh?.clusterId ?? '',
    families: resolveIpFamilies(settings, clusterEnv?.instanceIps ?? mesh?.instanceIps, hostAddresses),
    defaultExportTo: mesh?.defaultServiceExportTo ?? ['*'],
    discoverySelectors: mesh?.discoverySelectors,
  };
}

/**
 * The VM's IP families (issue 17): the `ipFamilies` setting, else (auto) the families of
 * ISTIO_SVC_IP / INSTANCE_IPS, else those of the host's addresses (`hostAddresses`: not
 * loopback, not link-local; read by the caller). Nothing known: both, as before.
 */
export function resolveIpFamilies(settings: Settings, instanceIps: readonly string[] | undefined, hostAddresses: readonly string[]): IpFamilies {
  switch (settings.ipFamilies) {
    case 'ipv4':
      return { v4: true, v6: false, why: 'ipFamilies: ipv4' };
    case 'ipv6':
      return { v4: false, v6: true, why: 'ipFamilies: ipv6' };
    case 'dual':
      return { v4: true, v6: true, why: 'ipFamilies: dual' };
  }
  const of = (ips: readonly string[], what: string): IpFamilies | undefined => {
    const v4 = ips.some((ip) => isIP(ip) === 4);
    const v6 = ips.some((ip) => isIP(ip) === 6);
    return v4 || v6 ? { v4, v6, why: `ipFamilies: auto, from ${what} (${ips.join(', ')})` } : undefined;
  };
  return (
    of(instanceIps ?? [], 'ISTIO_SVC_IP / INSTANCE_IPS') ??
    of(hostAddresses, "the host's addresses") ?? { v4: true, v6: true, why: 'ipFamilies: auto, no address known: both' }
  );
}

/** `resolvConf.manage: auto` follows DNS capture; `true`/`false` override it. */
export function shouldManageResolvConf(config: EffectiveConfig): boolean {
  const manage = config.settings.resolvConf.manage;
  return manage === 'auto' ? config.dnsCapture : manage === 'true';
}
