import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Problem, formatProblem } from '../../src/problem';
import { bootstrapFromClusterEnv, parseClusterEnv, parseClusterEnvAssignments, parseClusterEnvBootstrap } from '../../src/config';
import { readFixture } from './fixture';

const show = (problems: Problem[]): string => problems.map(formatProblem).join('\n');

test('realistic istioctl cluster.env: every variable, no problems', () => {
  const parsed = parseClusterEnv(readFixture('cluster.env'), 'cluster.env');
  assert.equal(parsed.problems, [], show(parsed.problems));
  const vars = parsed.value;
  assert.is(Object.keys(vars).length, 17);
  assert.is(vars.ISTIO_METAJSON_LABELS, '{"app":"cloud-vm","service.istio.io/canonical-name":"cloud-vm","service.istio.io/canonical-revision":"latest"}');
  assert.is(vars.ISTIO_META_MESH_ID, '');
  assert.is(vars.ISTIO_INBOUND_PORTS, '*');
  assert.is(vars.ISTIO_LOCAL_EXCLUDE_PORTS, '15090,15021,15020');
  assert.is(vars.POD_NAMESPACE, 'vm-namespace');
  assert.is(vars.TRUST_DOMAIN, 'cluster.local');
});

// [what it proves, line, key, value]
const VALUES: Array<[string, string, string, string]> = [
  ['single-quoted value', "A='x'", 'A', 'x'],
  ['empty single quotes', "A=''", 'A', ''],
  ['shell idiom for an embedded single quote', `A='it'"'"'s'`, 'A', "it's"],
  ['idiom at the start', `A=''"'"'quoted'"'"''`, 'A', "'quoted'"],
  ['single quotes keep backslashes and $ literally', "A='a\\b $HOME'", 'A', 'a\\b $HOME'],
  ['single quotes keep spaces and #', "A='a b # c'", 'A', 'a b # c'],
  ['double-quoted value', 'A="x y"', 'A', 'x y'],
  ['double quotes: escaped quote, backslash, dollar', 'A="say \\"hi\\" \\\\ \\$X"', 'A', 'say "hi" \\ $X'],
  ['double quotes: other backslashes stay', 'A="a\\nb"', 'A', 'a\\nb'],
  ['double quotes keep single quotes', `A="it's"`, 'A', "it's"],
  ['bare value', 'A=plain', 'A', 'plain'],
  ['bare value with = and :', 'A=k=v:1', 'A', 'k=v:1'],
  ['bare empty value', 'A=', 'A', ''],
  ['bare backslash escapes the next character', 'A=a\\ b', 'A', 'a b'],
  ['mixed pieces concatenate', `A=pre'mid'"post"`, 'A', 'premidpost'],
  ['export prefix tolerated', "export A='x'", 'A', 'x'],
  ['export with a tab', "export\tA=x", 'A', 'x'],
  ['trailing whitespace', "A='x'   \t", 'A', 'x'],
  ['leading whitespace', "   A='x'", 'A', 'x'],
  ['trailing comment after the value', "A='x' # note", 'A', 'x'],
  ['# inside a bare word is not a comment', 'A=a#b', 'A', 'a#b'],
  ['JSON in single quotes', `A='{"k":"v"}'`, 'A', '{"k":"v"}'],
  ['key with digits and underscore', "_A1='x'", '_A1', 'x'],
  ['lowercase key', 'a=x', 'a', 'x'],
  ['BOM at the start of the file', "\uFEFFA='x'", 'A', 'x'],
  ['unicode value', "A='名前'", 'A', '名前'],
];
for (const [name, line, key, value] of VALUES) {
  test(`value: ${name}`, () => {
    const parsed = parseClusterEnv(line + '\n', 'c.env');
    assert.equal(parsed.problems, [], show(parsed.problems));
    assert.equal(parsed.value, { [key]: value });
  });
}

test('CRLF line endings parse like LF', () => {
  const lf = parseClusterEnv(readFixture('cluster.env'), 'c.env');
  const crlf = parseClusterEnv(readFixture('cluster.env').replace(/\n/g, '\r\n'), 'c.env');
  assert.equal(crlf.problems, []);
  assert.equal(crlf.value, lf.value);
});

test('comments and blank lines are skipped; line numbers stay true', () => {
  const text = "# header\n\n  # indented comment\nA='1'\r\n\r\nB='2'\n";
  const parsed = parseClusterEnvAssignments(text, 'c.env');
  assert.equal(parsed.problems, []);
  assert.equal(parsed.value, [{ key: 'A', value: '1', line: 4 }, { key: 'B', value: '2', line: 6 }]);
});

test('a repeated key takes the last value, as the shell does', () => {
  assert.equal(parseClusterEnv("A='1'\nA='2'\n", 'c.env').value, { A: '2' });
});

test('__proto__ is stored as an ordinary variable', () => {
  const parsed = parseClusterEnv("__proto__='x'\n", 'c.env');
  assert.equal(Object.keys(parsed.value), ['__proto__']);
  assert.is(Object.getOwnPropertyDescriptor(parsed.value, '__proto__')?.value, 'x');
});

// [what it proves, line, field named or undefined, word in the message]
const BAD: Array<[string, string, string | undefined, string]> = [
  ['no = at all', 'JUST_A_WORD', undefined, 'KEY=value'],
  ['unterminated single quote', "A='open", 'A', 'unterminated single quote'],
  ['unterminated double quote', 'A="open', 'A', 'unterminated double quote'],
  ['unterminated after the idiom', `A='it'"'"'s`, 'A', 'unterminated single quote'],
  ['key with a dash', "BAD-KEY='x'", 'BAD-KEY', 'not a variable name'],
  ['key starting with a digit', "1A='x'", '1A', 'not a variable name'],
  ['space before =', "A ='x'", 'A ', 'not a variable name'],
  ['empty key', "='x'", undefined, 'not a variable name'],
  ['unquoted value with a space', 'A=two words', 'A', 'quote a value'],
  ['text after a quoted value', "A='x' y", 'A', 'unexpected text'],
  ['trailing backslash', 'A=x\\', 'A', 'backslash'],
];
for (const [name, line, field, word] of BAD) {
  test(`bad line: ${name}`, () => {
    const text = `FIRST='1'\n${line}\nLAST='3'\n`;
    const parsed = parseClusterEnv(text, 'c.env');
    assert.is(parsed.problems.length, 1, show(parsed.problems));
    const [p] = parsed.problems;
    assert.is(p.file, 'c.env');
    assert.is(p.document, 2);
    assert.is(p.field, field);
    assert.ok(p.message.includes(word), p.message);
    // The other lines still count.
    assert.equal(parsed.value, { FIRST: '1', LAST: '3' });
  });
}

// [what it proves, vars, expected bootstrap values, fields of the problems]
const BOOTSTRAP: Array<[string, Record<string, string>, object, string[]]> = [
  // Istio's VM start script runs the agent with POD_NAMESPACE=$ISTIO_NAMESPACE (issue 17).
  ['ISTIO_NAMESPACE wins over POD_NAMESPACE', { POD_NAMESPACE: 'pod-ns', ISTIO_NAMESPACE: 'istio-ns' }, { namespace: 'istio-ns' }, []],
  ['POD_NAMESPACE when ISTIO_NAMESPACE is missing', { POD_NAMESPACE: 'pod-ns' }, { namespace: 'pod-ns' }, []],
  ['cluster id', { ISTIO_META_CLUSTER_ID: 'east', CLUSTER_ID: 'west' }, { clusterId: 'east' }, []],
  ['instance IPs from ISTIO_SVC_IP and INSTANCE_IPS', { ISTIO_SVC_IP: '10.0.0.5', INSTANCE_IPS: '10.0.0.5, fd00::5' }, { instanceIps: ['10.0.0.5', '10.0.0.5', 'fd00::5'] }, []],
  ['a bad instance IP is reported', { INSTANCE_IPS: '10.0.0.5,nope' }, { instanceIps: ['10.0.0.5'] }, ['INSTANCE_IPS']],
  ['ISTIO_NAMESPACE when POD_NAMESPACE is missing', { ISTIO_NAMESPACE: 'istio-ns' }, { namespace: 'istio-ns' }, []],
  ['ISTIO_NAMESPACE when POD_NAMESPACE is empty', { POD_NAMESPACE: '', ISTIO_NAMESPACE: 'istio-ns' }, { namespace: 'istio-ns' }, []],
  ['bad ISTIO_NAMESPACE is reported and the next one used', { POD_NAMESPACE: 'ok', ISTIO_NAMESPACE: 'Bad_NS' }, { namespace: 'ok' }, ['ISTIO_NAMESPACE']],
  ['no namespace at all', {}, {}, []],
  ['DNS capture true', { ISTIO_META_DNS_CAPTURE: 'true' }, { dnsCapture: true }, []],
  ['DNS capture False', { ISTIO_META_DNS_CAPTURE: 'False' }, { dnsCapture: false }, []],
  ['DNS capture 1', { ISTIO_META_DNS_CAPTURE: '1' }, { dnsCapture: true }, []],
  ['DNS capture 0', { ISTIO_META_DNS_CAPTURE: '0' }, { dnsCapture: false }, []],
  ['DNS capture YES', { ISTIO_META_DNS_CAPTURE: 'YES' }, { dnsCapture: true }, []],
  ['DNS capture no', { ISTIO_META_DNS_CAPTURE: 'no' }, { dnsCapture: false }, []],
  ['DNS capture empty means unset', { ISTIO_META_DNS_CAPTURE: '' }, {}, []],
  ['DNS capture garbage is a problem and ignored', { ISTIO_META_DNS_CAPTURE: 'enabled' }, {}, ['ISTIO_META_DNS_CAPTURE']],
  ['auto-allocate false', { ISTIO_META_DNS_AUTO_ALLOCATE: 'false' }, { dnsAutoAllocate: false }, []],
  ['auto-allocate TRUE', { ISTIO_META_DNS_AUTO_ALLOCATE: 'TRUE' }, { dnsAutoAllocate: true }, []],
  ['auto-allocate garbage is a problem and ignored', { ISTIO_META_DNS_AUTO_ALLOCATE: '2' }, {}, ['ISTIO_META_DNS_AUTO_ALLOCATE']],
  ['unrelated variables ignored', { TRUST_DOMAIN: 'x', ISTIO_META_MESH_ID: '' }, {}, []],
];
for (const [name, vars, expected, fields] of BOOTSTRAP) {
  test(`bootstrap: ${name}`, () => {
    const parsed = bootstrapFromClusterEnv(vars, 'c.env');
    assert.equal(parsed.value, expected);
    assert.equal(parsed.problems.map((p) => p.field), fields);
    for (const p of parsed.problems) assert.is(p.file, 'c.env');
  });
}

test('bootstrap from the realistic cluster.env', () => {
  const vars = parseClusterEnv(readFixture('cluster.env'), 'cluster.env').value;
  assert.equal(bootstrapFromClusterEnv(vars).value, { namespace: 'vm-namespace', dnsCapture: true, clusterId: 'Kubernetes' });
});

test('parseClusterEnvBootstrap: value problems carry the line number', () => {
  const text = "POD_NAMESPACE='vm'\n# c\nISTIO_META_DNS_CAPTURE='perhaps'\nBROKEN\n";
  const parsed = parseClusterEnvBootstrap(text, 'c.env');
  assert.equal(parsed.value, { namespace: 'vm' });
  assert.equal(parsed.problems.map((p) => [p.document, p.field]), [[4, undefined], [3, 'ISTIO_META_DNS_CAPTURE']]);
});

test.run();
