import { BootstrapValues, EffectiveConfig, Settings } from './types';

/**
 * Applies the precedence of docs/ARCHITECTURE.md §1: the settings file (only keys it set) > cluster.env >
 * mesh config > defaults. DNS capture defaults to on, as istioctl does; auto-allocation too.
 */
export function resolveEffectiveConfig(settings: Settings, clusterEnv: BootstrapValues | undefined, mesh: BootstrapValues | undefined): EffectiveConfig {
  const settingsNamespace = settings.explicit.has('namespace') && settings.namespace !== '' ? settings.namespace : undefined;
  const settingsAutoAllocate = settings.explicit.has('autoAllocate') ? settings.autoAllocate : undefined;
  return {
    settings,
    namespace: settingsNamespace ?? clusterEnv?.namespace ?? mesh?.namespace ?? 'default',
    dnsCapture: clusterEnv?.dnsCapture ?? mesh?.dnsCapture ?? true,
    autoAllocate: settingsAutoAllocate ?? clusterEnv?.dnsAutoAllocate ?? mesh?.dnsAutoAllocate ?? true,
  };
}

/** `resolvConf.manage: auto` follows DNS capture; `true`/`false` override it. */
export function shouldManageResolvConf(config: EffectiveConfig): boolean {
  const manage = config.settings.resolvConf.manage;
  return manage === 'auto' ? config.dnsCapture : manage === 'true';
}
