import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Problem, formatProblem } from '../../src/problem';
import { Settings, defaultSettings, loadSettingsFile, parseSettings, SETTINGS_KEYS } from '../../src/config';
import { fixturePath, readFixture } from './fixture';

/** The value behind a dotted settings key (forward.timeout lives in forward.timeoutMs). */
function valueAt(s: Settings, key: string): unknown {
  if (key === 'forward.timeout') return s.forward.timeoutMs;
  return key.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], s);
}

const show = (problems: Problem[]): string => problems.map(formatProblem).join('\n');

test('defaults match docs/ARCHITECTURE.md §6', () => {
  const d = defaultSettings();
  assert.equal(d.listen, [{ host: '127.0.0.1', port: 53, family: 4 }]);
  assert.is(d.clusterDomain, 'cluster.local');
  assert.is(d.namespace, '');
  assert.equal(d.bootstrap, { clusterEnv: '/var/lib/istio/envoy/cluster.env', meshConfig: '/etc/istio/config/mesh', hosts: '/var/lib/istio/envoy/hosts' });
  assert.equal(d.registry, ['/etc/meshdns/registry.d']);
  assert.equal(d.resolvConf, { path: '/etc/resolv.conf', manage: 'auto' });
  assert.is(d.stateDir, '/var/lib/meshdns');
  assert.equal(d.upstreams, []);
  assert.equal(d.forward, { timeoutMs: 2000, attempts: 2, parallel: false });
  assert.equal(d.cache, { maxEntries: 10000 });
  assert.is(d.autoAllocate, true);
  assert.is(d.ttl, 30);
  assert.is(d.metrics, '127.0.0.1:15054');
  assert.equal(d.log, { level: 'info' });
  assert.is(d.explicit.size, 0);
});

test('defaultSettings returns a fresh object each time', () => {
  const a = defaultSettings();
  a.listen.push({ host: '::1', port: 53, family: 6 });
  a.forward.attempts = 9;
  assert.is(defaultSettings().listen.length, 1);
  assert.is(defaultSettings().forward.attempts, 2);
});

const EMPTY_DOCUMENTS: Array<[string, string]> = [
  ['empty file', ''],
  ['only comments', '# nothing set\n\n# really\n'],
  ['explicit null document', 'null\n'],
  ['tilde document', '~'],
  ['document marker only', '---\n'],
  ['CRLF comments', '# a\r\n# b\r\n'],
];
for (const [name, text] of EMPTY_DOCUMENTS) {
  test(`all defaults, no problems: ${name}`, () => {
    const parsed = parseSettings(text, 'm.yaml');
    assert.equal(parsed.problems, [], show(parsed.problems));
    const { explicit, ...rest } = parsed.value;
    const { explicit: _unused, ...defaults } = defaultSettings();
    assert.equal(rest, defaults);
    assert.is(explicit.size, 0);
  });
}

test('full fixture: every key read, every key explicit', () => {
  const parsed = parseSettings(readFixture('meshdns.yaml'), 'meshdns.yaml');
  assert.equal(parsed.problems, [], show(parsed.problems));
  const s = parsed.value;
  assert.equal(s.listen, [{ host: '127.0.0.2', port: 5353, family: 4 }, { host: '::1', port: 5353, family: 6 }]);
  assert.is(s.clusterDomain, 'corp.local');
  assert.is(s.namespace, 'vm-namespace');
  assert.equal(s.bootstrap, { clusterEnv: '/srv/istio/cluster.env', meshConfig: '/srv/istio/mesh', hosts: '/srv/istio/hosts' });
  assert.equal(s.registry, ['/srv/registry', '/srv/more.yaml']);
  assert.equal(s.resolvConf, { path: '/srv/resolv.conf', manage: 'false' });
  assert.is(s.stateDir, '/srv/state');
  assert.equal(s.upstreams, [
    { host: '192.0.2.1', port: 53, family: 4 },
    { host: '192.0.2.2', port: 5300, family: 4 },
    { host: '2001:db8::1', port: 53, family: 6 },
    { host: '2001:db8::2', port: 53, family: 6 },
  ]);
  assert.equal(s.allowFrom, ['10.0.0.0/8']);
  assert.equal(s.forward, { timeoutMs: 1500, attempts: 3, parallel: true });
  assert.equal(s.cache, { maxEntries: 0 });
  assert.is(s.autoAllocate, false);
  assert.is(s.ttl, 5);
  assert.is(s.metrics, '');
  assert.equal(s.log, { level: 'debug' });
  assert.equal(s.istiod, { enabled: 'true', address: 'istiod.corp.example:15012', serverName: 'istiod.istio-system.svc', rootCert: '/srv/istio/root-cert.pem', token: '/srv/istio/istio-token', istioVersion: '1.24.1' });
  assert.equal([...s.explicit].sort(), [...SETTINGS_KEYS].sort());
});

// [what it proves, yaml, dotted key, expected value]
const GOOD: Array<[string, string, string, unknown]> = [
  ['listen IPv4 with port', 'listen: ["127.0.0.1:5300"]', 'listen', [{ host: '127.0.0.1', port: 5300, family: 4 }]],
  ['listen without port defaults to 53', 'listen: ["127.0.0.5"]', 'listen', [{ host: '127.0.0.5', port: 53, family: 4 }]],
  ['listen [IPv6]:port', 'listen: ["[::1]:5300"]', 'listen', [{ host: '::1', port: 5300, family: 6 }]],
  ['listen bare IPv6 defaults to 53', 'listen: ["::1"]', 'listen', [{ host: '::1', port: 53, family: 6 }]],
  ['listen [IPv6] without port', 'listen: ["[::1]"]', 'listen', [{ host: '::1', port: 53, family: 6 }]],
  ['listen port 0 (ephemeral) allowed', 'listen: ["127.0.0.1:0"]', 'listen', [{ host: '127.0.0.1', port: 0, family: 4 }]],
  ['listen as a single string', 'listen: 127.0.0.1:5353', 'listen', [{ host: '127.0.0.1', port: 5353, family: 4 }]],
  ['listen IPv6 canonicalised', 'listen: ["[0:0:0:0:0:0:0:1]:53"]', 'listen', [{ host: '::1', port: 53, family: 6 }]],
  ['listen two addresses', 'listen: ["127.0.0.1:53", "[::1]:53"]', 'listen', [{ host: '127.0.0.1', port: 53, family: 4 }, { host: '::1', port: 53, family: 6 }]],
  ['clusterDomain lowercased, trailing dot stripped', 'clusterDomain: Example.ORG.', 'clusterDomain', 'example.org'],
  ['namespace', 'namespace: team-a', 'namespace', 'team-a'],
  ['namespace empty string is allowed', 'namespace: ""', 'namespace', ''],
  ['bootstrap.clusterEnv', 'bootstrap: {clusterEnv: /x/cluster.env}', 'bootstrap.clusterEnv', '/x/cluster.env'],
  ['bootstrap.meshConfig', 'bootstrap:\n  meshConfig: /x/mesh', 'bootstrap.meshConfig', '/x/mesh'],
  ['bootstrap.hosts', 'bootstrap:\n  hosts: /x/hosts', 'bootstrap.hosts', '/x/hosts'],
  ['registry as a list', 'registry: [/a, /b.yaml]', 'registry', ['/a', '/b.yaml']],
  ['registry as a single string', 'registry: /only/here', 'registry', ['/only/here']],
  ['registry empty list', 'registry: []', 'registry', []],
  ['ipFamilies', 'ipFamilies: IPv4', 'ipFamilies', 'ipv4'],
  ['resolvConf.path', 'resolvConf: {path: /tmp/resolv.conf}', 'resolvConf.path', '/tmp/resolv.conf'],
  ['resolvConf.manage auto', 'resolvConf: {manage: auto}', 'resolvConf.manage', 'auto'],
  ['resolvConf.manage YAML true', 'resolvConf: {manage: true}', 'resolvConf.manage', 'true'],
  ['resolvConf.manage YAML false', 'resolvConf: {manage: false}', 'resolvConf.manage', 'false'],
  ['resolvConf.manage quoted "false"', 'resolvConf: {manage: "false"}', 'resolvConf.manage', 'false'],
  ['resolvConf.manage AUTO any case', 'resolvConf: {manage: AUTO}', 'resolvConf.manage', 'auto'],
  ['stateDir', 'stateDir: /srv/meshdns', 'stateDir', '/srv/meshdns'],
  ['upstreams bare IPv4 gets port 53', 'upstreams: [192.0.2.53]', 'upstreams', [{ host: '192.0.2.53', port: 53, family: 4 }]],
  ['upstreams IPv4:port', 'upstreams: ["192.0.2.53:5353"]', 'upstreams', [{ host: '192.0.2.53', port: 5353, family: 4 }]],
  ['upstreams [IPv6]:port', 'upstreams: ["[2001:db8::53]:5353"]', 'upstreams', [{ host: '2001:db8::53', port: 5353, family: 6 }]],
  ['upstreams bare IPv6 gets port 53', 'upstreams: ["2001:db8::53"]', 'upstreams', [{ host: '2001:db8::53', port: 53, family: 6 }]],
  ['upstreams empty list', 'upstreams: []', 'upstreams', []],
  ['forward.timeout 2s', 'forward: {timeout: 2s}', 'forward.timeout', 2000],
  ['forward.timeout 500ms', 'forward: {timeout: 500ms}', 'forward.timeout', 500],
  ['forward.timeout 1.5s', 'forward: {timeout: 1.5s}', 'forward.timeout', 1500],
  ['forward.timeout number of seconds', 'forward: {timeout: 3}', 'forward.timeout', 3000],
  ['forward.timeout fractional seconds', 'forward: {timeout: 0.25}', 'forward.timeout', 250],
  ['forward.attempts 1', 'forward: {attempts: 1}', 'forward.attempts', 1],
  ['forward.attempts 10', 'forward: {attempts: 10}', 'forward.attempts', 10],
  ['forward.parallel', 'forward: {parallel: true}', 'forward.parallel', true],
  ['cache.maxEntries 0 turns the cache off', 'cache: {maxEntries: 0}', 'cache.maxEntries', 0],
  ['cache.maxEntries large', 'cache: {maxEntries: 250000}', 'cache.maxEntries', 250000],
  ['autoAllocate false', 'autoAllocate: false', 'autoAllocate', false],
  ['autoAllocate true', 'autoAllocate: true', 'autoAllocate', true],
  ['ttl 0', 'ttl: 0', 'ttl', 0],
  ['ttl max', 'ttl: 2147483647', 'ttl', 2147483647],
  ['metrics empty string turns it off', 'metrics: ""', 'metrics', ''],
  ['metrics host:port', 'metrics: 127.0.0.1:9153', 'metrics', '127.0.0.1:9153'],
  ['metrics [IPv6]:port', 'metrics: "[::1]:9153"', 'metrics', '[::1]:9153'],
  ['metrics name:port', 'metrics: localhost:9153', 'metrics', 'localhost:9153'],
  ['metrics false turns it off', 'metrics: false', 'metrics', ''],
  ['log.level debug', 'log: {level: debug}', 'log.level', 'debug'],
  ['log.level silent', 'log: {level: silent}', 'log.level', 'silent'],
  ['log.level any case', 'log: {level: WARN}', 'log.level', 'warn'],
];
for (const [name, yaml, key, expected] of GOOD) {
  test(`good: ${name}`, () => {
    const parsed = parseSettings(yaml, 'm.yaml');
    assert.equal(parsed.problems, [], show(parsed.problems));
    assert.equal(valueAt(parsed.value, key), expected);
    assert.equal([...parsed.value.explicit], [key]);
  });
}

test('registry entries may name their cluster (issue 17)', () => {
  const parsed = parseSettings('registry: [/a, {path: /b, cluster: west}]', 'm.yaml');
  assert.equal(parsed.problems, []);
  assert.equal(parsed.value.registry, ['/a', '/b']);
  assert.equal(parsed.value.registrySources, [{ path: '/a' }, { path: '/b', cluster: 'west' }]);
});

// [what it proves, yaml, field the problem names, a word the message must contain]
const BAD: Array<[string, string, string, string]> = [
  ['listen not an IP', 'listen: ["localhost:53"]', 'listen[0]', 'not an IP'],
  ['listen port out of range', 'listen: ["127.0.0.1:65536"]', 'listen[0]', 'out of range'],
  ['listen port not a number', 'listen: ["127.0.0.1:dns"]', 'listen[0]', 'not a number'],
  ['listen IPv6 with port needs brackets', 'listen: ["::1:53:x"]', 'listen[0]', '[address]:port'],
  ['listen zone id', 'listen: ["[fe80::1%eth0]:53"]', 'listen[0]', 'zone'],
  ['listen empty list', 'listen: []', 'listen', 'at least one'],
  ['listen duplicate', 'listen: ["127.0.0.1:53", "127.0.0.1"]', 'listen[1]', 'duplicate'],
  ['listen item not a string', 'listen: [53]', 'listen[0]', 'expected a string'],
  ['listen second item bad', 'listen: ["127.0.0.1:53", "nope"]', 'listen[1]', 'not an IP'],
  ['listen unclosed bracket', 'listen: ["[::1:53"]', 'listen[0]', '"]"'],
  ['clusterDomain with space', 'clusterDomain: "cluster local"', 'clusterDomain', 'not a DNS domain'],
  ['clusterDomain empty', 'clusterDomain: ""', 'clusterDomain', 'empty'],
  ['clusterDomain a number', 'clusterDomain: 5', 'clusterDomain', 'expected a string'],
  ['namespace uppercase', 'namespace: Team', 'namespace', 'namespace name'],
  ['namespace with dot', 'namespace: a.b', 'namespace', 'namespace name'],
  ['namespace a list', 'namespace: [a]', 'namespace', 'expected a string'],
  ['bootstrap.clusterEnv empty', 'bootstrap: {clusterEnv: ""}', 'bootstrap.clusterEnv', 'empty'],
  ['bootstrap.hosts a number', 'bootstrap: {hosts: 1}', 'bootstrap.hosts', 'expected a string'],
  ['bootstrap not a map', 'bootstrap: /etc', 'bootstrap', 'must be a map'],
  ['registry item not a string', 'registry: [/a, 3]', 'registry[1]', 'expected a string'],
  ['registry a map without path', 'registry: {a: b}', 'registry', 'unknown key "a"'],
  ['registry cluster not a string', 'registry: [{path: /a, cluster: 3}]', 'registry[0]', 'cluster: expected a cluster name'],
  ['ipFamilies not a family', 'ipFamilies: both', 'ipFamilies', 'expected one of auto, ipv4, ipv6, dual'],
  ['resolvConf.manage bad word', 'resolvConf: {manage: sometimes}', 'resolvConf.manage', 'auto, true or false'],
  ['resolvConf.path empty', 'resolvConf: {path: " "}', 'resolvConf.path', 'empty'],
  ['resolvConf not a map', 'resolvConf: [a]', 'resolvConf', 'must be a map'],
  ['stateDir NUL', 'stateDir: "/a\\0b"', 'stateDir', 'NUL'],
  ['upstreams port 0', 'upstreams: ["192.0.2.1:0"]', 'upstreams[0]', 'out of range'],
  ['upstreams host name', 'upstreams: [dns.google]', 'upstreams[0]', 'not an IP'],
  ['upstreams IPv4 with leading zero', 'upstreams: ["010.0.0.1"]', 'upstreams[0]', 'not an IP'],
  ['forward.timeout unit unknown', 'forward: {timeout: 2 sec}', 'forward.timeout', 'duration'],
  ['forward.timeout zero', 'forward: {timeout: 0s}', 'forward.timeout', 'at least 1ms'],
  ['forward.timeout negative', 'forward: {timeout: -1}', 'forward.timeout', 'at least 1ms'],
  ['forward.timeout too long', 'forward: {timeout: 9999999999}', 'forward.timeout', 'at most'],
  ['forward.timeout a boolean', 'forward: {timeout: true}', 'forward.timeout', 'duration'],
  ['forward.attempts 0', 'forward: {attempts: 0}', 'forward.attempts', '1 to 10'],
  ['forward.attempts 11', 'forward: {attempts: 11}', 'forward.attempts', '1 to 10'],
  ['forward.attempts fraction', 'forward: {attempts: 1.5}', 'forward.attempts', 'whole number'],
  ['forward.attempts string', 'forward: {attempts: "2"}', 'forward.attempts', 'whole number'],
  ['forward.parallel bad word', 'forward: {parallel: maybe}', 'forward.parallel', 'true or false'],
  ['cache.maxEntries negative', 'cache: {maxEntries: -1}', 'cache.maxEntries', 'whole number'],
  ['cache.maxEntries fraction', 'cache: {maxEntries: 1.5}', 'cache.maxEntries', 'whole number'],
  ['autoAllocate a string', 'autoAllocate: sure', 'autoAllocate', 'true or false'],
  ['ttl negative', 'ttl: -1', 'ttl', '0 to 2147483647'],
  ['ttl too large', 'ttl: 2147483648', 'ttl', '0 to 2147483647'],
  ['ttl string', 'ttl: 30s', 'ttl', 'whole number'],
  ['metrics without port', 'metrics: 127.0.0.1', 'metrics', 'needs a port'],
  ['metrics bad port', 'metrics: "127.0.0.1:99999"', 'metrics', 'out of range'],
  ['metrics true', 'metrics: true', 'metrics', 'host:port'],
  ['metrics bad host', 'metrics: "bad host:80"', 'metrics', 'neither an IP'],
  ['log.level unknown', 'log: {level: verbose}', 'log.level', 'expected one of'],
  ['istiod.istioVersion not a version', 'istiod: {istioVersion: "latest"}', 'istiod.istioVersion', 'expected an Istio version like "1.24.1"'],
  ['istiod.istioVersion one number', 'istiod: {istioVersion: "1"}', 'istiod.istioVersion', 'expected an Istio version'],
  ['istiod.istioVersion with a v', 'istiod: {istioVersion: "v1.24.1"}', 'istiod.istioVersion', 'expected an Istio version'],
  ['istiod.istioVersion unquoted number', 'istiod: {istioVersion: 1.20}', 'istiod.istioVersion', 'quote the version'],
  ['log not a map', 'log: debug', 'log', 'must be a map'],
];
for (const [name, yaml, field, word] of BAD) {
  test(`bad: ${name}`, () => {
    const parsed = parseSettings(yaml, 'm.yaml');
    assert.ok(parsed.problems.length >= 1, 'expected a problem');
    const p = parsed.problems.find((x) => x.field === field);
    assert.ok(p, `no problem names ${field}: ${show(parsed.problems)}`);
    assert.is(p!.file, 'm.yaml');
    assert.ok(p!.message.includes(word), `message "${p!.message}" lacks "${word}"`);
    // The broken key keeps its default and does not count as set.
    const key = field.replace(/\[\d+\]$/, '');
    if (SETTINGS_KEYS.includes(key)) {
      assert.equal(valueAt(parsed.value, key), valueAt(defaultSettings(), key));
      assert.not.ok(parsed.value.explicit.has(key));
    }
  });
}

// [what it proves, yaml, field, suggestion expected in the message or '']
const UNKNOWN: Array<[string, string, string, string]> = [
  ['unknown top-level key', 'listn: ["127.0.0.1"]', 'listn', 'did you mean "listen"'],
  ['unknown top-level key, no near match', 'colour: blue', 'colour', ''],
  ['wrong case suggests the right key', 'clusterdomain: x.local', 'clusterdomain', 'did you mean "clusterDomain"'],
  ['unknown nested key in forward', 'forward: {timout: 2s}', 'forward.timout', 'did you mean "timeout"'],
  ['unknown nested key in resolvConf', 'resolvConf: {mode: auto}', 'resolvConf.mode', ''],
  ['unknown nested key in log', 'log: {format: json}', 'log.format', ''],
  ['a leaf given sub-keys is a bad value, not a section', 'ttl: {seconds: 5}', 'ttl', ''],
  ['a section key at top level', 'timeout: 2s', 'timeout', ''],
];
for (const [name, yaml, field, hint] of UNKNOWN) {
  test(`unknown key: ${name}`, () => {
    const parsed = parseSettings(yaml, 'm.yaml');
    assert.is(parsed.problems.length, 1, show(parsed.problems));
    assert.is(parsed.problems[0].field, field);
    assert.is(parsed.problems[0].file, 'm.yaml');
    if (hint !== '') assert.ok(parsed.problems[0].message.includes(hint), parsed.problems[0].message);
    assert.is(parsed.value.explicit.size, 0);
  });
}

test('unknown key message lists the known keys of its section', () => {
  const [p] = parseSettings('cache: {size: 5}', 'm.yaml').problems;
  assert.ok(p.message.includes('known keys: maxEntries'), p.message);
});

test('one bad key does not spoil the others', () => {
  const parsed = parseSettings('ttl: -5\nnamespace: prod\nforward: {attempts: 99, timeout: 1s}\nbogus: 1\n', 'm.yaml');
  assert.equal(parsed.problems.map((p) => p.field).sort(), ['bogus', 'forward.attempts', 'ttl']);
  assert.is(parsed.value.namespace, 'prod');
  assert.is(parsed.value.forward.timeoutMs, 1000);
  assert.is(parsed.value.forward.attempts, 2);
  assert.is(parsed.value.ttl, 30);
  assert.equal([...parsed.value.explicit].sort(), ['forward.timeout', 'namespace']);
});

test('a null value means not set', () => {
  const parsed = parseSettings('namespace:\nforward:\nlisten: ~\n', 'm.yaml');
  assert.equal(parsed.problems, []);
  assert.is(parsed.value.namespace, '');
  assert.is(parsed.value.explicit.size, 0);
});

// [what it proves, text, word in the message]
const WHOLE_FILE: Array<[string, string, string]> = [
  ['YAML syntax error names the line', 'listen: [\n  "127.0.0.1"\nttl: 3\n', 'line'],
  ['duplicate key', 'ttl: 1\nttl: 2\n', 'duplicated'],
  ['two documents', 'ttl: 1\n---\nttl: 2\n', 'single document'],
  ['a list at the top', '- listen\n', 'must be a map'],
  ['a scalar at the top', 'hello\n', 'must be a map'],
  ['tab indentation', 'forward:\n\ttimeout: 2s\n', 'YAML'],
];
for (const [name, text, word] of WHOLE_FILE) {
  test(`whole file: ${name}`, () => {
    const parsed = parseSettings(text, 'm.yaml');
    assert.is(parsed.problems.length, 1, show(parsed.problems));
    assert.is(parsed.problems[0].file, 'm.yaml');
    assert.ok(parsed.problems[0].message.includes(word), parsed.problems[0].message);
    assert.is(parsed.value.ttl, 30);
    assert.is(parsed.value.explicit.size, 0);
  });
}

test('CRLF settings file parses like LF', () => {
  const lf = parseSettings(readFixture('meshdns.yaml'), 'a');
  const crlf = parseSettings(readFixture('meshdns.yaml').replace(/\n/g, '\r\n'), 'a');
  assert.equal(crlf.problems, []);
  assert.equal(crlf.value, lf.value);
});

test('YAML 1.1 words are not booleans unless a boolean is expected', () => {
  // `namespace: no` is the string "no" (core schema), a valid namespace, not false.
  const parsed = parseSettings('namespace: no\nautoAllocate: no\n', 'm.yaml');
  assert.equal(parsed.problems, []);
  assert.is(parsed.value.namespace, 'no');
  assert.is(parsed.value.autoAllocate, false);
});

test('loadSettingsFile: missing file is all defaults, no problem', async () => {
  const parsed = await loadSettingsFile('/nonexistent/meshdns-test/meshdns.yaml');
  assert.equal(parsed.problems, []);
  assert.is(parsed.value.ttl, 30);
});

test('loadSettingsFile: reads and validates a real file', async () => {
  const parsed = await loadSettingsFile(fixturePath('meshdns.yaml'));
  assert.equal(parsed.problems, []);
  assert.is(parsed.value.ttl, 5);
  assert.ok(parsed.value.explicit.has('resolvConf.manage'));
});

test('loadSettingsFile: unreadable path (a directory) is a problem with defaults', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshdns-settings-'));
  try {
    const parsed = await loadSettingsFile(dir);
    assert.is(parsed.problems.length, 1);
    assert.is(parsed.problems[0].file, dir);
    assert.ok(parsed.problems[0].message.includes('cannot read'), parsed.problems[0].message);
    assert.is(parsed.value.ttl, 30);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
