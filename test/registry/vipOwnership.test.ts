// VipOwnership on its own (the builder's property tests check it inside whole tables): the first
// wanter in input order owns a key; a key keeps its VIP when its owner leaves and another wanter
// takes over, or when its record comes back as a new object; a declared address displaces the
// VIP holding it (the owner is re-derived and gets another); the state file flag is set only
// when what it would say changed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { VipOwnership } from '../../src/registry/vipOwnership';
import type { ServiceEntryRecord } from '../../src/registry/types';
import { se } from '../nametable/records';

interface U {
  readonly record: ServiceEntryRecord;
  readonly order: number;
}

const auto = (name: string, hosts: string[]): ServiceEntryRecord => se(name, 'ns1', hosts, { resolution: 'DNS' });

function ownership(): { vips: VipOwnership<U>; rederived: U[]; update: (fn: () => void) => boolean } {
  const vips = new VipOwnership<U>({}, (a, b) => a.order - b.order);
  const rederived: U[] = [];
  const update = (fn: () => void): boolean => {
    vips.begin(false, (u) => rederived.push(u));
    fn();
    return vips.finish(true);
  };
  return { vips, rederived, update };
}

test('the first wanter in input order owns the key; the VIP stays with the key when it moves', () => {
  const { vips, rederived, update } = ownership();
  const record = auto('web', ['web.example']);
  const late: U = { record, order: 2 };
  const early: U = { record, order: 1 };
  assert.ok(update(() => vips.unitWants(late)), 'a new key is a change');
  const vip = vips.heldVip(late, record, 'web.example');
  assert.ok(vip !== undefined && vip.v4 !== undefined);
  const held = { v4: vip.v4, v6: vip.v6 };
  rederived.length = 0;
  update(() => vips.unitWants(early));
  assert.is(vips.heldVip(late, record, 'web.example'), undefined, 'the later wanter lost it');
  const now = vips.heldVip(early, record, 'web.example');
  assert.equal({ v4: now?.v4, v6: now?.v6 }, held, 'the earlier one holds the same VIP');
  assert.equal(rederived, [late, early], 'both are derived again');
  assert.equal(vips.allocations(), { 'ns1/web/web.example': held });
  assert.not.ok(update(() => vips.unitRemoved(early, true)), 'the VIP went back to the other wanter: nothing to save');
  assert.equal({ v4: vips.heldVip(late, record, 'web.example')?.v4 }, { v4: held.v4 });
});

test('a record re-parsed as a new object gets its VIP back, and that is not a change', () => {
  const { vips, update } = ownership();
  const before: U = { record: auto('db', ['db.example', 'db2.example']), order: 1 };
  update(() => vips.unitWants(before));
  const saved = vips.allocations();
  const after: U = { record: auto('db', ['db.example', 'db2.example']), order: 1 };
  const changed = update(() => {
    vips.unitRemoved(before, true);
    vips.unitWants(after);
  });
  assert.not.ok(changed);
  assert.equal(vips.allocations(), saved);
});

test('a declared address displaces the VIP holding it; its owner gets another', () => {
  const { vips, rederived, update } = ownership();
  const owner: U = { record: auto('a', ['a.example']), order: 1 };
  update(() => vips.unitWants(owner));
  const taken = vips.heldVip(owner, owner.record, 'a.example')!.v4!;
  rederived.length = 0;
  const declaring: U = { record: se('b', 'ns1', ['b.example'], { addresses: [taken] }), order: 2 };
  assert.ok(update(() => vips.claimDeclared(declaring)));
  assert.equal(rederived, [owner, owner], 'the displaced owner is derived again');
  const now = vips.heldVip(owner, owner.record, 'a.example')!;
  assert.ok(now.v4 !== undefined && now.v4 !== taken, `moved off ${taken} to ${now.v4}`);
});

test('persisted hints are honoured by the first update only', () => {
  const record = auto('web', ['web.example']);
  const vips = new VipOwnership<U>({ 'ns1/web/web.example': { v4: '240.240.0.9', v6: '2001:2::9' } }, (a, b) => a.order - b.order);
  vips.begin(true, () => undefined);
  vips.unitWants({ record, order: 1 });
  assert.not.ok(vips.finish(true), 'the state file already says this');
  assert.equal(vips.allocations(), { 'ns1/web/web.example': { v4: '240.240.0.9', v6: '2001:2::9' } });
});

test.run();
