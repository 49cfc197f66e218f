import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fc from 'fast-check';
import * as yaml from 'js-yaml';
import { isIP } from 'node:net';
import { Parsed } from '../../src/problem';
import {
  Settings,
  bootstrapFromClusterEnv,
  normalizeDnsName,
  parseClusterEnv,
  parseClusterEnvBootstrap,
  parseHostsFile,
  parseMeshConfig,
  parseSettings,
  resolveEffectiveConfig,
  shouldManageResolvConf,
} from '../../src/config';
import { readFixture } from './fixture';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const FILE = 'fuzz.input';

type Parser = { name: string; lineFormat: boolean; parse: (text: string) => Parsed<unknown> };
const PARSERS: Parser[] = [
  { name: 'settings', lineFormat: false, parse: (t) => parseSettings(t, FILE) },
  { name: 'cluster.env', lineFormat: true, parse: (t) => parseClusterEnv(t, FILE) },
  { name: 'cluster.env bootstrap', lineFormat: true, parse: (t) => parseClusterEnvBootstrap(t, FILE) },
  { name: 'mesh config', lineFormat: false, parse: (t) => parseMeshConfig(t, FILE) },
  { name: 'hosts', lineFormat: true, parse: (t) => parseHostsFile(t, FILE) },
];
const SEEDS = ['meshdns.yaml', 'cluster.env', 'mesh.yaml', 'hosts'].map(readFixture);

/** The checks every parser must pass on any input. */
function checkParsed(parser: Parser, text: string, parsed: Parsed<unknown>): void {
  assert.ok(parsed !== null && typeof parsed === 'object', `${parser.name}: no Parsed value`);
  assert.ok(parsed.value !== undefined && parsed.value !== null, `${parser.name}: value missing`);
  assert.ok(Array.isArray(parsed.problems), `${parser.name}: problems not a list`);
  const lines = text.split(/\r?\n/).length;
  for (const p of parsed.problems) {
    assert.is(p.file, FILE);
    assert.type(p.message, 'string');
    assert.ok(p.message.length > 0, `${parser.name}: empty message`);
    if (parser.lineFormat) {
      assert.ok(Number.isInteger(p.document) && p.document! >= 1 && p.document! <= lines, `${parser.name}: bad line ${p.document} of ${lines}`);
    }
  }
}

// Characters that matter to these formats, so random text hits the interesting paths.
const SPECIAL = [...`'"#=\\ \t\r\n:[]{}-,.%*&!|>?@\`$_/`, '\uFEFF', '\u00e9', '0', '1', 'a', 'Z', 'export ', 'true', '---', '- ', '::'];
const specialText = fc.array(fc.constantFrom(...SPECIAL), { maxLength: 80 }).map((parts) => parts.join(''));
const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ maxLength: 200 }), specialText);

/** Random edits of a valid file: insert/delete/replace characters, duplicate or drop lines. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...SPECIAL), fc.string({ maxLength: 4 })) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), text: fc.constantFrom(...SPECIAL) }),
  fc.record({ kind: fc.constant('duplicateLine' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('dropLine' as const), at: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(text: string, edits: Mutation[]): string {
  let out = text;
  for (const edit of edits) {
    const at = out.length === 0 ? 0 : edit.at % (out.length + 1);
    if (edit.kind === 'insert') out = out.slice(0, at) + edit.text + out.slice(at);
    else if (edit.kind === 'delete') out = out.slice(0, at) + out.slice(at + edit.length);
    else if (edit.kind === 'replace') out = out.slice(0, at) + edit.text + out.slice(at + 1);
    else {
      const lines = out.split('\n');
      const i = edit.at % lines.length;
      if (edit.kind === 'duplicateLine') lines.splice(i, 0, lines[i]);
      else lines.splice(i, 1);
      out = lines.join('\n');
    }
  }
  return out;
}
const mutatedFile = fc.tuple(fc.constantFrom(...SEEDS), fc.array(mutation, { minLength: 1, maxLength: 6 }), fc.boolean()).map(([seed, edits, crlf]) => {
  const text = mutate(seed, edits);
  return crlf ? text.replace(/\n/g, '\r\n') : text;
});

for (const parser of PARSERS) {
  test(`${parser.name}: random text never throws and every problem is located`, () => {
    fc.assert(fc.property(anyText, (text) => checkParsed(parser, text, parser.parse(text))), { numRuns: RUNS });
  });
  test(`${parser.name}: mutated valid files never throw and every problem is located`, () => {
    fc.assert(fc.property(mutatedFile, (text) => checkParsed(parser, text, parser.parse(text))), { numRuns: RUNS });
  });
}

/** Writes settings back as YAML, to prove a parsed value is always a valid, usable settings file. */
function settingsToYaml(s: Settings): string {
  const address = (a: { host: string; port: number; family: 4 | 6 }): string => (a.family === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`);
  return yaml.dump({
    listen: s.listen.map(address),
    clusterDomain: s.clusterDomain,
    namespace: s.namespace,
    bootstrap: s.bootstrap,
    registry: s.registrySources.map((r) => (r.cluster === undefined ? r.path : r)),
    resolvConf: s.resolvConf,
    stateDir: s.stateDir,
    upstreams: s.upstreams.map(address),
    allowFrom: s.allowFrom,
    forward: { timeout: `${s.forward.timeoutMs}ms`, attempts: s.forward.attempts, parallel: s.forward.parallel },
    cache: s.cache,
    autoAllocate: s.autoAllocate,
    ipFamilies: s.ipFamilies,
    ttl: s.ttl,
    metrics: s.metrics,
    log: s.log,
    istiod: s.istiod,
  });
}
const withoutExplicit = (s: Settings): Omit<Settings, 'explicit'> => {
  const { explicit: _explicit, ...rest } = s;
  return rest;
};

test('settings: whatever the input, the value is itself valid settings (round trip, no problems)', () => {
  fc.assert(
    fc.property(fc.oneof(mutatedFile, anyText), (text) => {
      const first = parseSettings(text, FILE).value;
      const again = parseSettings(settingsToYaml(first), FILE);
      assert.equal(again.problems, []);
      assert.equal(withoutExplicit(again.value), withoutExplicit(first));
    }),
    { numRuns: RUNS },
  );
});

// Per key: good and bad raw YAML values, mixed at random; problems must name exactly the bad keys.
const KEY_SAMPLES: Record<string, { good: string[]; bad: string[] }> = {
  listen: { good: ['["127.0.0.1:5353"]', '"[::1]:53"', '["::1", "127.0.0.2"]'], bad: ['[]', '["x:1"]', '[1]', '{a: 1}'] },
  clusterDomain: { good: ['corp.local', 'A.B.'], bad: ['"a b"', '""', '[x]'] },
  namespace: { good: ['ns', '""'], bad: ['NS', 'a.b'] },
  'bootstrap.clusterEnv': { good: ['/x'], bad: ['""', '1'] },
  'bootstrap.meshConfig': { good: ['/y'], bad: ['[]'] },
  'bootstrap.hosts': { good: ['/z'], bad: ['{}'] },
  registry: { good: ['/r', '[/a, /b]', '[]', '[{path: /w, cluster: west}]'], bad: ['[1]', '{}', '[{path: /w, cluster: ""}]'] },
  ipFamilies: { good: ['auto', 'ipv4', 'IPv6', 'dual'], bad: ['both', '4', '[ipv4]'] },
  'resolvConf.path': { good: ['/etc/r'], bad: ['""'] },
  'resolvConf.manage': { good: ['auto', 'true', 'false', '"no"'], bad: ['sometimes', '3'] },
  stateDir: { good: ['/s'], bad: ['false'] },
  upstreams: { good: ['[]', '["192.0.2.1"]', '["[2001:db8::1]:53"]'], bad: ['["192.0.2.1:0"]', '[dns.google]'] },
  allowFrom: { good: ['[]', '["10.0.0.0/8"]', '["fd00::1"]'], bad: ['["10.0.0.0/33"]', '[x]', '{}'] },
  'forward.timeout': { good: ['2s', '500ms', '1.5', '1m30s'], bad: ['0', '2 sec', 'true'] },
  'forward.attempts': { good: ['1', '10'], bad: ['0', '11', '"2"'] },
  'forward.parallel': { good: ['true', 'false'], bad: ['maybe'] },
  'cache.maxEntries': { good: ['0', '5'], bad: ['-1', '1.5'] },
  autoAllocate: { good: ['true', 'no'], bad: ['perhaps'] },
  ttl: { good: ['0', '30'], bad: ['-1', '30s'] },
  metrics: { good: ['""', '127.0.0.1:1', 'localhost:9'], bad: ['127.0.0.1', 'true'] },
  'log.level': { good: ['info', 'TRACE'], bad: ['loud'] },
};

test('settings: problems name exactly the bad keys; explicit holds exactly the good ones', () => {
  const keys = Object.keys(KEY_SAMPLES);
  const choice = fc.record(
    Object.fromEntries(keys.map((k) => [k, fc.option(fc.tuple(fc.boolean(), fc.nat()), { nil: undefined })])) as Record<string, fc.Arbitrary<[boolean, number] | undefined>>,
  );
  fc.assert(
    fc.property(choice, (picked) => {
      const sections = new Map<string, string[]>();
      const good = new Set<string>();
      const bad = new Set<string>();
      for (const key of keys) {
        const pick = picked[key];
        if (pick === undefined) continue;
        const [isGood, n] = pick;
        const pool = isGood ? KEY_SAMPLES[key].good : KEY_SAMPLES[key].bad;
        (isGood ? good : bad).add(key);
        const [section, leaf] = key.includes('.') ? key.split('.') : ['', key];
        sections.set(section, [...(sections.get(section) ?? []), `${leaf}: ${pool[n % pool.length]}`]);
      }
      const lines: string[] = [];
      for (const [section, entries] of sections) {
        if (section === '') lines.push(...entries);
        else lines.push(`${section}:`, ...entries.map((e) => `  ${e}`));
      }
      const parsed = parseSettings(lines.join('\n'), FILE);
      const named = new Set(parsed.problems.map((p) => (p.field ?? '').replace(/\[\d+\]$/, '')));
      assert.equal([...named].sort(), [...bad].sort(), lines.join('\n'));
      assert.equal([...parsed.value.explicit].sort(), [...good].sort(), lines.join('\n'));
    }),
    { numRuns: RUNS },
  );
});

/** istioctl's quoting: every value in single quotes, an embedded ' written as '"'"'. */
function istioctlQuote(value: string): string {
  return `'${value.replace(/'/g, `'"'"'`)}'`;
}

test('cluster.env: any values written the istioctl way read back unchanged', () => {
  const key = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/);
  const value = fc.string({ unit: 'binary', maxLength: 40 }).filter((v) => !/[\r\n]/.test(v));
  fc.assert(
    fc.property(fc.dictionary(key, value, { maxKeys: 10 }), fc.boolean(), fc.boolean(), (vars, crlf, exported) => {
      const eol = crlf ? '\r\n' : '\n';
      const text = Object.entries(vars).map(([k, v]) => `${exported ? 'export ' : ''}${k}=${istioctlQuote(v)}`).join(eol) + eol;
      const parsed = parseClusterEnv(text, FILE);
      assert.equal(parsed.problems, []);
      assert.equal({ ...parsed.value }, { ...vars });
    }),
    { numRuns: RUNS },
  );
});

test('hosts: every entry has a valid address and normalised names', () => {
  fc.assert(
    fc.property(fc.oneof(mutatedFile, anyText), (text) => {
      for (const entry of parseHostsFile(text, FILE).value) {
        assert.ok(isIP(entry.address) !== 0, entry.address);
        assert.ok(entry.names.length > 0);
        for (const name of entry.names) assert.equal(normalizeDnsName(name), { ok: true, value: name });
      }
    }),
    { numRuns: RUNS },
  );
});

test('bootstrap and precedence never throw on any variables', () => {
  const vars = fc.dictionary(
    fc.constantFrom('POD_NAMESPACE', 'ISTIO_NAMESPACE', 'ISTIO_META_DNS_CAPTURE', 'ISTIO_META_DNS_AUTO_ALLOCATE', 'OTHER', '__proto__'),
    fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('true', 'false', '1', '0', 'yes', 'no', '', 'ns')),
  );
  fc.assert(
    fc.property(vars, vars, anyText, (envVars, meshVars, settingsText) => {
      const env = bootstrapFromClusterEnv(envVars, FILE);
      const mesh = bootstrapFromClusterEnv(meshVars, FILE);
      for (const p of [...env.problems, ...mesh.problems]) {
        assert.is(p.file, FILE);
        assert.ok(p.message.length > 0);
      }
      const cfg = resolveEffectiveConfig(parseSettings(settingsText, FILE).value, env.value, mesh.value);
      assert.ok(cfg.namespace.length > 0);
      assert.type(shouldManageResolvConf(cfg), 'boolean');
    }),
    { numRuns: RUNS },
  );
});

test.run();
