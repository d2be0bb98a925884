import { MemshedFacet, SheddingActionFactory } from '@memshed/core';
import { ContainerModule } from '@memshed/core/inversify';
import { ServiceRegistry } from './service-registry';
import { ServiceShutdownFactory } from './service-shutdown-factory';

/**
 * The service-shutdown plugin (id `service-shutdown`): binds the {@link ServiceRegistry} (one per
 * container, where the application registers its services) and the action factory.
 *
 * @example
 * const memshed = await createMemshed({ modules: [serviceShutdownModule] });
 * memshed.container.get(ServiceRegistry).register('indexer', { priority: 'background', stop, start });
 */
const serviceShutdownModule = new ContainerModule(({ bind }) => {
  bind(ServiceRegistry).toSelf().inSingletonScope();
  bind<MemshedFacet>(MemshedFacet).toConstantValue({
    property: 'services',
    resolve: (container) => container.get(ServiceRegistry),
  });
  bind(ServiceShutdownFactory).toSelf().inSingletonScope();
  bind(SheddingActionFactory).toService(ServiceShutdownFactory);
});

export default serviceShutdownModule;
export { serviceShutdownModule };
export { InFlight } from './in-flight';
export { ServiceRegistry, servicesOf } from './service-registry';
export type {
  ServiceDefinition,
  ServiceRegistration,
  ServiceStartReport,
  ServiceState,
  ServiceStatus,
  ServiceStopReport,
  ServiceTransitionOptions,
} from './service-registry';
export { ServiceShutdownAction } from './service-shutdown-action';
export { ServiceShutdownFactory } from './service-shutdown-factory';
export { serviceShutdownOptionsSchema } from './service-shutdown-options';
export type { ServiceShutdownOptions, ServiceShutdownOptionsInput } from './service-shutdown-options';

declare module '@memshed/core' {
  interface Memshed {
    /** The service registry of this memshed (from @memshed/action-service-shutdown): `memshed.services.register('indexer', { stop, priority: 'background' });` */
    readonly services: ServiceRegistry;
  }
}
