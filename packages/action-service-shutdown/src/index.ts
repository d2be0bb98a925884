import { MemshedFacet, definePlugin } from '@memshed/core';
import { ServiceRegistry } from './service-registry';
import { ServiceShutdownAction } from './service-shutdown-action';
import { serviceShutdownOptionsSchema } from './service-shutdown-options';

/**
 * The service-shutdown plugin (id `service-shutdown`): the action, and the {@link ServiceRegistry}
 * (one per container, where the application registers its services) its actions stop and restart.
 *
 * @example
 * const memshed = await createMemshed({ modules: [serviceShutdownModule] });
 * memshed.container.get(ServiceRegistry).register('indexer', { priority: 'background', stop, start });
 */
const serviceShutdownModule = definePlugin({
  kind: 'action',
  id: 'service-shutdown',
  description: 'Drain and stop services below a priority, lowest first; restart them on recovery',
  optionsSchema: serviceShutdownOptionsSchema,
  bind: ({ bind }) => {
    bind(ServiceRegistry).toSelf().inSingletonScope();
    bind<MemshedFacet>(MemshedFacet).toConstantValue({
      property: 'services',
      resolve: (container) => container.get(ServiceRegistry),
    });
  },
  create: (options, services) => {
    const action = new ServiceShutdownAction(options, services.get(ServiceRegistry));
    // Its recovery watch outlives the run: end it when memshed stops.
    services.onStop(() => action.dispose());
    return action;
  },
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
export { serviceShutdownOptionsSchema } from './service-shutdown-options';
export type { ServiceShutdownOptions, ServiceShutdownOptionsInput } from './service-shutdown-options';

declare module '@memshed/core' {
  interface Memshed {
    /** The service registry of this memshed (from @memshed/action-service-shutdown): `memshed.services.register('indexer', { stop, priority: 'background' });` */
    readonly services: ServiceRegistry;
  }
}
