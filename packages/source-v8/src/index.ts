/**
 * @memshed/source-v8: the V8 heap as a reclaim domain. Every garbage collection is a reclaim pass
 * fed to the vmpressure window, and the committed heap against `heap_size_limit` escalates to
 * medium and critical before V8 dies of "JavaScript heap out of memory", which the kernel never
 * warns about.
 */
import { definePlugin } from '@memshed/core';
import { V8Source } from './v8-source';
import { v8SourceOptionsSchema } from './v8-source-options';

export { PAGE_SIZE, headroomLevel, reclaimPass } from './gc-accounting';
export type { GcRecord, HeadroomThresholds, HeapSample, ReclaimPass } from './gc-accounting';
export {
  HeapStatisticsGcRecorder,
  ProfilerGcRecorder,
  createGcRecorder,
  currentHeapSample,
  detectGcRecorderKind,
  gcRecordsFromProfile,
  hasGcEntries,
  hasGcProfiler,
} from './gc-recorder';
export type { GcBatch, GcRecorder, GcRecorderKind } from './gc-recorder';
export { V8Source } from './v8-source';
export type { V8SourceEnvironment } from './v8-source';
export { v8SourceOptionsSchema } from './v8-source-options';
export type { V8SourceOptions, V8SourceOptionsInput } from './v8-source-options';

/** The `v8` source plugin. */
const v8SourceModule = definePlugin({
  kind: 'source',
  id: 'v8',
  description:
    'V8 heap: GC efficiency (freed / examined per collection) through the vmpressure window, and committed heap against heap_size_limit',
  optionsSchema: v8SourceOptionsSchema,
  create: (options) => new V8Source(options),
});

export default v8SourceModule;
