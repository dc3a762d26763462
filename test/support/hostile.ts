import { runInNewContext } from 'node:vm';
import fc from 'fast-check';

/** Values a careless or hostile host may emit: each is something JSON.stringify or String() chokes on. */
export function hostileScalars(): unknown[] {
  const circular: Record<string, unknown> = { name: 'loop' };
  circular.self = circular;
  let deep: Record<string, unknown> = {};
  const deepRoot = deep;
  for (let i = 0; i < 20_000; i++) deep = deep.next = {};
  const throwingGetter = Object.defineProperty({}, 'value', {
    enumerable: true,
    get() {
      throw new Error('getter');
    },
  });
  return [
    circular,
    deepRoot,
    throwingGetter,
    {
      toJSON() {
        throw new Error('toJSON');
      },
    },
    { toJSON: () => undefined },
    new Date(Number.NaN),
    12345678901234567890n,
    Symbol('hostile'),
    () => 'function',
    Object.create(null),
    JSON.parse('{"__proto__":{"polluted":true}}'),
    'x'.repeat(10 * 1024 * 1024),
    'line\nbreak "quoted" \u0000 \u001b[31m',
    runInNewContext('({ realm: "other", list: [1, 2], when: new Date(0), error: new Error("other realm") })'),
    new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('ownKeys');
        },
      },
    ),
    Number.NaN,
    Number.POSITIVE_INFINITY,
  ];
}

/** A fast-check arbitrary over hostile values, plain JSON values, and objects mixing them. */
export function hostileValue(): fc.Arbitrary<unknown> {
  const scalars = hostileScalars().filter((v) => typeof v !== 'string' || v.length < 1000);
  const pick = fc.constantFrom(...scalars);
  return fc.oneof(
    pick,
    fc.jsonValue(),
    fc.bigInt(),
    fc.string().map((s) => Symbol(s)),
    fc.dictionary(fc.string(), fc.oneof(pick, fc.jsonValue())),
    fc.array(fc.oneof(pick, fc.jsonValue()), { maxLength: 5 }),
  );
}
