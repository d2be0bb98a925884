import { isDeepStrictEqual, inspect } from 'node:util';
import { TestScheduler } from 'rxjs/testing';

/**
 * A TestScheduler that asserts with Node's deep equality, for marble tests under any runner:
 * `createTestScheduler().run(({ cold, hot, expectObservable }) => ...)`.
 */
export function createTestScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => {
    if (!isDeepStrictEqual(actual, expected)) {
      throw new Error(
        `Marble mismatch.\nExpected: ${inspect(expected, { depth: 6 })}\nActual:   ${inspect(actual, { depth: 6 })}`,
      );
    }
  });
}
