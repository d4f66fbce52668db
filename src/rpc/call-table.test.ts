import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CallTable } from './call-table.js';

type Op = { op: 'add'; cid: number; value: number } | { op: 'take'; cid: number } | { op: 'takeWhere'; below: number } | { op: 'takeAll' };

// Ids that share a slot (1, 4097, 8193 …) as well as spread ones.
const cid = fc.oneof(fc.integer({ min: 1, max: 8 }), fc.constantFrom(4097, 8193, 4096 * 7 + 1), fc.integer({ min: 1, max: 0xffffffff }));
const ops = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant('add' as const), cid, value: fc.nat(1000) }),
    fc.record({ op: fc.constant('take' as const), cid }),
    fc.record({ op: fc.constant('takeWhere' as const), below: fc.nat(1000) }),
    fc.record({ op: fc.constant('takeAll' as const) }),
  ),
  { maxLength: 200, size: 'medium' },
);

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);

test('the call table holds and hands back calls as a Map keyed by call id would', () => {
  fc.assert(
    fc.property(ops, (steps: Op[]) => {
      const table = new CallTable<{ value: number }>();
      const model = new Map<number, { value: number }>();
      for (const step of steps) {
        if (step.op === 'add') {
          const call = { value: step.value };
          table.add(step.cid, call);
          model.set(step.cid, call);
        } else if (step.op === 'take') {
          assert.equal(table.take(step.cid), model.get(step.cid));
          model.delete(step.cid);
        } else if (step.op === 'takeWhere') {
          const expected = [...model].filter(([, c]) => c.value < step.below);
          for (const [k] of expected) model.delete(k);
          assert.deepEqual(sorted(table.takeWhere((c) => c.value < step.below).map((c) => c.value)), sorted(expected.map(([, c]) => c.value)));
        } else {
          assert.deepEqual(sorted(table.takeAll().map((c) => c.value)), sorted([...model.values()].map((c) => c.value)));
          model.clear();
        }
        assert.equal(table.size, model.size);
      }
    }),
  );
});

test('a call is handed back once: a late reply for a taken call finds nothing', () => {
  const table = new CallTable<string>();
  table.add(7, 'call');
  assert.equal(table.take(7), 'call');
  assert.equal(table.take(7), undefined);
  assert.equal(table.size, 0);
});

test('a reply naming a call id no call has (0, negative, fractional) takes nothing and leaves the count alone', () => {
  const table = new CallTable<string>();
  table.add(1, 'one');
  for (const bogus of [0, -1, 1.5, -4095, 2 ** 32]) assert.equal(table.take(bogus), undefined, `cid ${bogus}`);
  assert.equal(table.size, 1);
  assert.deepEqual(table.takeAll(), ['one']);
  assert.equal(table.size, 0);
});
