/**
 * @memshed/source-v8: the V8 heap as a reclaim domain. Every garbage collection is a reclaim pass
 * fed to the vmpressure window, and the committed heap against `heap_size_limit` escalates to
 * medium and critical before V8 dies of "JavaScript heap out of memory", which the kernel never
 * warns about.
 */
import { PressureSourceFactory } from '@memshed/core';
import { ContainerModule } from '@memshed/core/inversify';
import { V8SourceFactory } from './v8-source-factory';

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
export { V8SourceFactory } from './v8-source-factory';
export { v8SourceOptionsSchema } from './v8-source-options';
export type { V8SourceOptions, V8SourceOptionsInput } from './v8-source-options';

/** The `v8` source plugin: binds {@link V8SourceFactory} as a {@link PressureSourceFactory}. */
const v8SourceModule = new ContainerModule(({ bind }) => {
  bind(V8SourceFactory).toSelf().inSingletonScope();
  bind(PressureSourceFactory).toService(V8SourceFactory);
});

export default v8SourceModule;
