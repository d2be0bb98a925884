/**
 * The zod builders memshed's option schemas use: `import { z } from '@memshed/options'`.
 *
 * Why a subset and not `'zod'` directly: zod 4's index loads dozens of module files and, at
 * import, builds every locale it ships, a start-up cost in time and memory (docs/benchmarks.md,
 * footprint), although a plugin's options need a handful of builders and English messages. The
 * build (`scripts/bundle-vendored.mjs`, run by `npm run build`) replaces this module's compiled
 * output with one CommonJS file holding just these exports of the same pinned zod, tree-shaken
 * (English messages are kept: zod registers them on first use).
 *
 * Schemas built with these are ordinary zod 4 schemas (and Standard Schemas). A plugin may use
 * `'zod'` itself instead: memshed only relies on the Standard Schema interface and on zod's
 * internal definition (`_zod.def`, for config errors and the JSON Schema), which both copies share.
 * Add a builder here when a memshed package needs one the list lacks.
 */
export {
  array,
  boolean,
  custom,
  discriminatedUnion,
  enum,
  int,
  lazy,
  literal,
  NEVER,
  never,
  nullable,
  number,
  object,
  optional,
  record,
  strictObject,
  string,
  toJSONSchema,
  tuple,
  union,
  unknown,
  ZodError,
  ZodType,
} from 'zod';
export type { core, infer, input, output } from 'zod';
