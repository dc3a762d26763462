import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdTable } from '../../src/core/id-table.js';

type Op = { kind: 'set' | 'delete' | 'get'; id: number };

describe('IdTable', () => {
  it('behaves like a Map for any mix of sets, deletes and gets', () => {
    const id = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 2 ** 40, max: 2 ** 40 + 40 }), fc.maxSafeNat());
    const op = fc.record({ kind: fc.constantFrom<Op['kind']>('set', 'delete', 'get'), id });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const table = new IdTable<number>();
        const model = new Map<number, number>();
        ops.forEach(({ kind, id }, step) => {
          if (kind === 'set') {
            table.set(id, step);
            model.set(id, step);
          } else if (kind === 'delete') {
            expect(table.delete(id)).toBe(model.delete(id));
          } else {
            expect(table.get(id)).toBe(model.get(id));
          }
          expect(table.size).toBe(model.size);
        });
        expect(new Map(table.entries())).toEqual(model);
      }),
      { numRuns: 300 },
    );
  });

  it('stays small when spans open and close one after another', () => {
    const table = new IdTable<string>();
    const base = 374_760_195_170_304;
    for (let i = 0; i < 100_000; i++) {
      table.set(base + i, 'open');
      expect(table.get(base + i)).toBe('open');
      table.delete(base + i);
    }
    expect(table.size).toBe(0);
    expect([...table.entries()]).toEqual([]);
  });
});
