/**
 * The VM's IP families applied to a service's addresses (issue 17), as istiod does for a
 * single-stack proxy: ClusterIPs, spec/status addresses and VIPs of the other family are
 * dropped, so the name gets NODATA for that type. Pod and endpoint addresses and hosts files
 * are the workloads' own and stay.
 */
export interface VmFamilies {
  v4: boolean;
  v6: boolean;
}

interface Families {
  v4: readonly string[];
  v6: readonly string[];
}

const NONE: readonly string[] = Object.freeze([]);

/**
 * `families` for a VM with `vm`'s families. When a declared address list has none of the VM's
 * family, the list is kept as it is (`fallback`): istiod then serves the service's default
 * address rather than nothing. Allocated VIPs have no such fallback (`fallback` false).
 */
export function forVm<F extends Families>(families: F, vm: VmFamilies, fallback = true): F | Families {
  if (vm.v4 === vm.v6) return families; // dual stack (or nothing known): everything
  const keep = vm.v4 ? { v4: families.v4, v6: NONE } : { v4: NONE, v6: families.v6 };
  if (keep.v4.length === 0 && keep.v6.length === 0 && fallback) return families;
  if (keep.v4 === families.v4 && keep.v6 === families.v6) return families;
  return keep;
}
