import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Fixture directories, found by walking up from this file, so the tests work both from
 * test/registry (tsx) and from dist/test/registry (compiled): fixtures are not copied to dist.
 */
function findUp(relative: string): string {
  let dir = __dirname;
  for (;;) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`fixture directory ${relative} not found above ${__dirname}`);
    dir = parent;
  }
}

/** Upstream Istio samples (read-only, shared by all engineers). */
export const ISTIO_FIXTURES = findUp(join('shared', 'fixtures', 'istio'));
/** This folder's own fixtures (kubectl output). */
export const REGISTRY_FIXTURES = findUp(join('test', 'fixtures', 'registry'));

export function istioFixture(name: string): { file: string; text: string } {
  const file = join(ISTIO_FIXTURES, name);
  return { file, text: readFileSync(file, 'utf8') };
}

export function registryFixture(name: string): { file: string; text: string } {
  const file = join(REGISTRY_FIXTURES, name);
  return { file, text: readFileSync(file, 'utf8') };
}
