// The packages (issue 5): `npm run package` builds a .deb and an .rpm with the same files;
// lintian finds no errors in the .deb; the maintainer scripts and rpm scriptlets parse; the
// packaged program runs on its own bundled node_modules; the unit's systemd-analyze exposure
// stays "OK". (Installing and running the .deb under real systemd: systemd.test.ts. The .rpm
// cannot be installed on this Debian host; its listing and scriptlets are checked here.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const CHECKOUT = resolve(__dirname, '..', '..', ...(__dirname.includes(join('dist', 'test')) ? ['..'] : []));
const VERSION = (JSON.parse(readFileSync(join(CHECKOUT, 'package.json'), 'utf8')) as { version: string }).version;
const TOOLS: Record<string, string> = { 'dpkg-deb': 'dpkg', rpmbuild: 'rpm', rpm: 'rpm', lintian: 'lintian', 'systemd-analyze': 'systemd', bash: 'bash', dash: 'dash' };
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function run(cmd: string, args: string[], cwd = CHECKOUT, env: NodeJS.ProcessEnv = {}): { code: number; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, PATH, ...env }, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
}
function ok(cmd: string, args: string[], cwd?: string, env?: NodeJS.ProcessEnv): string {
  const r = run(cmd, args, cwd, env);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.code}\n${r.out}`);
  return r.out;
}

const missing = Object.keys(TOOLS).filter((t) => run('sh', ['-c', `command -v ${t}`]).code !== 0);
const out = mkdtempSync(join(tmpdir(), 'meshdns-pkg-'));
const DEB_ARCH = spawnSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).stdout?.trim() ?? 'unknown';
const RPM_ARCH = spawnSync('uname', ['-m'], { encoding: 'utf8' }).stdout?.trim() ?? 'unknown';
const deb = join(out, `meshdns_${VERSION}_${DEB_ARCH}.deb`);
const rpm = join(out, `meshdns-${VERSION}-1.${RPM_ARCH}.rpm`);
let built: Error | undefined;

test.before(() => {
  if (missing.length > 0) return;
  try {
    const started = Date.now();
    ok('bash', [join(CHECKOUT, 'packaging', 'build.sh')], CHECKOUT, { OUT: out });
    console.log(`\n[packaging] npm run package: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (err) {
    built = err as Error;
  }
});
test.after(() => rmSync(out, { recursive: true, force: true }));

test('tools are present (a missing one fails under CI=true)', () => {
  if (missing.length === 0) return;
  const message = `needs ${missing.join(', ')}: apt-get install ${[...new Set(missing.map((t) => TOOLS[t]))].join(' ')}`;
  if (process.env.CI === 'true') throw new Error(message);
  console.log(`[packaging] skipping: ${message}`);
});

/** Files (not directories) in the .deb, as absolute paths. */
function debFiles(): string[] {
  return ok('dpkg-deb', ['-c', deb]).split('\n').filter((l) => l !== '' && !l.startsWith('d')).map((l) => l.replace(/^.*? \.\//, '/').replace(/ -> .*$/, '')).sort();
}
/** Files (not directories) in the .rpm. */
function rpmFiles(): string[] {
  return ok('rpm', ['-qp', '--qf', '[%{FILEMODES:perms} %{FILENAMES}\\n]', rpm]).split('\n').filter((l) => l !== '' && !l.startsWith('d')).map((l) => l.slice(l.indexOf(' ') + 1)).sort();
}
function debField(field: string): string {
  return ok('dpkg-deb', ['-f', deb, field]).trim();
}

if (missing.length === 0) {
  const rows: Array<[string, () => void]> = [
    ['the build succeeds and names the packages after package.json\'s version', () => {
      if (built !== undefined) throw built;
      ok('test', ['-s', deb]);
      ok('test', ['-s', rpm]);
    }],
    ['.deb control: built for this architecture (native UDP engine), runs on Debian 12\'s nodejs', () => {
      assert.is(debField('Package'), 'meshdns');
      assert.is(debField('Version'), VERSION);
      assert.is(debField('Architecture'), DEB_ARCH);
      assert.is(debField('Depends'), 'nodejs (>= 18.19), libc6 (>= 2.14)');
    }],
    ['.deb: /etc/meshdns/meshdns.yaml is its one conffile', () => {
      const dir = mkdtempSync(join(tmpdir(), 'meshdns-ctl-'));
      ok('dpkg-deb', ['-e', deb, dir]);
      assert.is(readFileSync(join(dir, 'conffiles'), 'utf8'), '/etc/meshdns/meshdns.yaml\n');
      rmSync(dir, { recursive: true, force: true });
    }],
    ['.deb layout: launcher, program, unit, config, registry dir; production modules only', () => {
      const files = debFiles();
      for (const f of ['/usr/bin/meshdns', '/usr/lib/meshdns/bin/meshdns.js', '/usr/lib/meshdns/dist/src/cli.js', '/usr/lib/meshdns/dist/src/service.js',
        '/usr/lib/meshdns/package.json', '/usr/lib/meshdns/lifecycle.sh', '/usr/lib/meshdns/dist/native/udp_batch.node', '/lib/systemd/system/meshdns.service', '/etc/meshdns/meshdns.yaml',
        '/usr/share/doc/meshdns/copyright',
        '/usr/lib/meshdns/node_modules/js-yaml/package.json', '/usr/lib/meshdns/node_modules/pino/package.json', '/usr/lib/meshdns/node_modules/prom-client/package.json']) {
        assert.ok(files.includes(f), `missing ${f}`);
      }
      assert.ok(ok('dpkg-deb', ['-c', deb]).includes(' ./etc/meshdns/registry.d/\n'), 'no /etc/meshdns/registry.d/');
      for (const dev of ['typescript', 'uvu', 'tsx', 'fast-check', '@types', 'dns-packet']) {
        assert.not.ok(files.some((f) => f.startsWith(`/usr/lib/meshdns/node_modules/${dev}/`)), `dev dependency ${dev} shipped`);
      }
      assert.not.ok(files.some((f) => f.includes('/dist/test/') || f.includes('/dist/bench/') || f.endsWith('.map')), 'tests, benchmarks or source maps shipped');
    }],
    ['lintian: no errors', () => {
      const r = run('lintian', ['--no-tag-display-limit', deb]);
      const errors = r.out.split('\n').filter((l) => l.startsWith('E:'));
      assert.equal(errors, [], r.out);
    }],
    ['.rpm lists the same files as the .deb (units in each distribution\'s unit dir)', () => {
      const fromDeb = debFiles()
        .map((f) => f.replace(/^\/lib\/systemd\/system\//, '/usr/lib/systemd/system/'))
        .filter((f) => f !== '/usr/share/doc/meshdns/changelog.gz') // Debian's changelog; rpm keeps it in the header
        .sort();
      assert.equal(rpmFiles(), fromDeb);
    }],
    ['.rpm header: this architecture, nodejs >= 18.19, config(noreplace) settings', () => {
      assert.is(ok('rpm', ['-qp', '--qf', '%{NAME} %{VERSION} %{ARCH}', rpm]), `meshdns ${VERSION} ${RPM_ARCH}`);
      assert.ok(ok('rpm', ['-qpR', rpm]).split('\n').includes('nodejs >= 18.19'));
      assert.is(ok('rpm', ['-qpc', rpm]).trim(), '/etc/meshdns/meshdns.yaml');
    }],
    ['.rpm scriptlets (%post, %preun, %postun) pass bash -n and dash -n', () => {
      const scripts = ok('rpm', ['-qp', '--scripts', rpm]);
      const parts = scripts.split(/^\S.*scriptlet \(using \/bin\/sh\):$/m).slice(1);
      assert.is(parts.length, 3, scripts);
      for (const body of parts) {
        const file = join(out, 'scriptlet.sh');
        writeFileSync(file, body);
        ok('bash', ['-n', file]);
        ok('dash', ['-n', file]);
      }
    }],
    ['.deb maintainer scripts and lifecycle.sh pass sh -n', () => {
      for (const f of ['packaging/debian/postinst', 'packaging/debian/prerm', 'packaging/debian/postrm', 'packaging/lifecycle.sh']) ok('dash', ['-n', join(CHECKOUT, f)]);
      ok('bash', ['-n', join(CHECKOUT, 'install.sh')]);
    }],
    ['the packaged program runs on its bundled node_modules alone', () => {
      const dir = mkdtempSync(join(tmpdir(), 'meshdns-x-'));
      ok('dpkg-deb', ['-x', deb, dir]);
      const cli = join(dir, 'usr/lib/meshdns/bin/meshdns.js');
      assert.is(ok('node', [cli, 'version'], dir).trim().includes(VERSION), true);
      // The shipped default settings (all comments) are valid.
      const state = mkdtempSync(join(tmpdir(), 'meshdns-state-'));
      writeFileSync(join(state, 'settings.yaml'), `${readFileSync(join(dir, 'etc/meshdns/meshdns.yaml'), 'utf8')}\nstateDir: ${state}\nregistry: [${join(dir, 'etc/meshdns/registry.d')}]\n`);
      assert.match(ok('node', [cli, 'check', '--config', join(state, 'settings.yaml')], dir), /^ok: /);
      rmSync(dir, { recursive: true, force: true });
      rmSync(state, { recursive: true, force: true });
    }],
    ['the unit\'s systemd-analyze security exposure is below 4.0 ("OK")', () => {
      const r = ok('systemd-analyze', ['security', '--offline=yes', '--no-pager', join(CHECKOUT, 'systemd/meshdns.service')]);
      const m = /Overall exposure level for meshdns\.service: (\d+\.\d+) (\S+)/.exec(r);
      assert.ok(m !== null, r);
      console.log(`\n[packaging] systemd-analyze security: ${m![1]} ${m![2]}`);
      assert.ok(Number(m![1]) < 4.0, r);
    }],
  ];
  for (const [name, fn] of rows) test(name, fn);
}

test.run();
