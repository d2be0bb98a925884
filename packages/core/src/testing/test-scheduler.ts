import { isDeepStrictEqual, inspect } from 'node:util';
import type { TestScheduler } from 'rxjs/testing';

/**
 * A TestScheduler that asserts with Node's deep equality, for marble tests under any runner:
 * `createTestScheduler().run(({ cold, hot, expectObservable }) => ...)`.
 */
export function createTestScheduler(): TestScheduler {
  // Loaded on first use: this index is also how the simulator gets ManualScheduler outside tests,
  // and 'rxjs/testing' loads the whole of RxJS.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { TestScheduler } = require('rxjs/testing') as typeof import('rxjs/testing');
  return new TestScheduler((actual, expected) => {
    if (!isDeepStrictEqual(actual, expected)) {
      throw new Error(
        `Marble mismatch.\nExpected: ${inspect(expected, { depth: 6 })}\nActual:   ${inspect(actual, { depth: 6 })}`,
      );
    }
  });
}
