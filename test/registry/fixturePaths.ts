import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The repository's own fixture directories. Fixtures are not copied to dist, so the root is
 * found by walking up from this file to the checkout's package.json (from test/registry under
 * tsx or dist/test/registry when compiled); the walk never leaves the repository.
 */
function repositoryRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'test', 'fixtures'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no repository root (package.json with test/fixtures) above ${__dirname}`);
    dir = parent;
  }
}

const FIXTURES = join(repositoryRoot(), 'test', 'fixtures', 'registry');
/** Manifests in the shapes users apply (multi-document files, each ServiceEntry API version). */
export const SAMPLE_FIXTURES = join(FIXTURES, 'samples');
/** kubectl output (kind: List, server-side fields, EndpointSlices). */
export const REGISTRY_FIXTURES = FIXTURES;

export function sampleFixture(name: string): { file: string; text: string } {
  const file = join(SAMPLE_FIXTURES, name);
  return { file, text: readFileSync(file, 'utf8') };
}

export function registryFixture(name: string): { file: string; text: string } {
  const file = join(REGISTRY_FIXTURES, name);
  return { file, text: readFileSync(file, 'utf8') };
}
