#!/usr/bin/env node
// Builds native/udp_batch.c and native/answer_store.c into <out>/native/udp_batch.node (default out: dist).
//
// The addon is optional at run time (meshdns falls back to Node's dgram), so a machine without a
// C compiler or Node's headers still installs: this prints why and exits 0. With CI=true or
// --require it must build (the tests prove the native engine), and a failure exits 1.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const outDir = resolve(outIndex >= 0 ? args[outIndex + 1] : join(root, 'dist'));
const required = args.includes('--require') || process.env.CI === 'true';
const sources = ['udp_batch.c', 'answer_store.c'].map((file) => join(root, 'native', file));
const target = join(outDir, 'native', 'udp_batch.node');

function fail(reason) {
  const message = `build-native: ${reason}`;
  if (required) {
    console.error(`${message} (required: CI=true or --require)`);
    process.exit(1);
  }
  console.warn(`${message}; meshdns will use Node's dgram for UDP (slower, same answers)`);
  process.exit(0);
}

if (process.platform !== 'linux') fail(`recvmmsg/sendmmsg are Linux-only (platform ${process.platform})`);

// Node's headers: npm's nodedir (this machine: /usr), the install prefix of this node, Debian's path.
const candidates = [
  process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
  join(dirname(dirname(process.execPath)), 'include', 'node'),
  '/usr/include/node',
  '/usr/local/include/node',
].filter(Boolean);
const include = candidates.find((dir) => existsSync(join(dir, 'node_api.h')) && existsSync(join(dir, 'uv.h')));
if (include === undefined) fail(`Node's C headers (node_api.h, uv.h) not found in ${candidates.join(', ')}`);

const compiler = process.env.CC || 'cc';
mkdirSync(dirname(target), { recursive: true });
try {
  execFileSync(
    compiler,
    ['-O2', '-Wall', '-Wextra', '-Werror', '-fPIC', '-shared', '-fvisibility=hidden', '-D_FORTIFY_SOURCE=2', '-fstack-protector-strong', '-Wl,-z,relro,-z,now', '-DNODE_GYP_MODULE_NAME=udp_batch', `-I${include}`, '-o', target, ...sources],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
} catch (err) {
  fail(`${compiler} failed: ${err.message.split('\n')[0]}`);
}
console.log(`build-native: ${target}`);
