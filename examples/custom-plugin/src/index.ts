/**
 * A third-party memshed plugin, written against the public API only (`@memshed/core`): the
 * `event-loop-delay` source and the `buffer-pool` action. Config loads it by package name:
 *
 * ```yaml
 * plugins: ['@memshed/example-custom-plugin']
 * sources: [{ use: event-loop-delay, with: { medium: 100ms, critical: 500ms } }]
 * policies: [{ when: { level: medium }, do: [{ use: buffer-pool }] }]
 * ```
 */
import { PressureSourceFactory, SheddingActionFactory } from '@memshed/core';
import { ContainerModule } from 'inversify';
import { BufferPools } from './buffer-pool';
import { BufferPoolActionFactory } from './buffer-pool-action';
import { EventLoopDelaySourceFactory } from './event-loop-delay-source';

export { BufferPool, BufferPools } from './buffer-pool';
export { BufferPoolAction, BufferPoolActionFactory, bufferPoolOptionsSchema } from './buffer-pool-action';
export type { BufferPoolOptions } from './buffer-pool-action';
export {
  EventLoopDelaySource,
  EventLoopDelaySourceFactory,
  eventLoopDelayOptionsSchema,
} from './event-loop-delay-source';
export type { EventLoopDelayOptions } from './event-loop-delay-source';

/** The plugin: what `plugins: ['@memshed/example-custom-plugin']` loads. */
const customPluginModule = new ContainerModule(({ bind }) => {
  bind(BufferPools).toSelf().inSingletonScope();
  bind(EventLoopDelaySourceFactory).toSelf().inSingletonScope();
  bind(PressureSourceFactory).toService(EventLoopDelaySourceFactory);
  bind(BufferPoolActionFactory).toSelf().inSingletonScope();
  bind(SheddingActionFactory).toService(BufferPoolActionFactory);
});

export default customPluginModule;
