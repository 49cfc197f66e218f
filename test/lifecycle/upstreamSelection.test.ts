// UpstreamSelection: a reload's choice is swapped in; the forwarding list is the chosen one; a
// changed list resets the loop probe's findings (and probes only once serving); notes are logged
// when they change.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UpstreamSelection } from '../../src/lifecycle';
import type { Upstream } from '../../src/config/types';

const up = (host: string, port = 53): Upstream => ({ host, port, family: 4 });

function quietLog(): { infos: string[]; info: (m: string) => void; error: () => void } {
  const infos: string[] = [];
  return { infos, info: (m) => infos.push(m), error: () => undefined };
}

test('the chosen list is forwarded to, and kept as it is when unchanged', () => {
  const sel = new UpstreamSelection(quietLog());
  assert.equal(sel.forwardTo(), []);
  const first = [up('192.0.2.1'), up('192.0.2.2')];
  sel.use({ upstreams: first, notes: [] }, false);
  assert.equal(sel.upstreams, first);
  assert.equal(sel.forwardTo(), first);
  const forwardBefore = sel.forwardTo();
  sel.use({ upstreams: [up('192.0.2.1'), up('192.0.2.2')], notes: [] }, false);
  assert.is(sel.forwardTo(), forwardBefore, 'the same list: the forwarding list is not replaced');
  sel.use({ upstreams: [up('192.0.2.3')], notes: [] }, false);
  assert.equal(sel.forwardTo(), [up('192.0.2.3')]);
});

test('notes are logged when they change, not at every reload', () => {
  const log = quietLog();
  const sel = new UpstreamSelection(log);
  const choice = { upstreams: [up('192.0.2.1')], notes: ['127.0.0.53 is systemd-resolved: its uplinks are used'] };
  sel.noteChoice(choice);
  sel.noteChoice(choice);
  assert.equal(log.infos, choice.notes);
  sel.noteChoice({ upstreams: [], notes: [] });
  sel.noteChoice(choice);
  assert.is(log.infos.length, 2);
});

test.run();
