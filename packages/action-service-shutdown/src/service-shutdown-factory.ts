import { SheddingActionFactory } from '@memshed/core';
import { inject, injectable, preDestroy } from '@memshed/core/inversify';
import { ServiceRegistry } from './service-registry';
import { ServiceShutdownAction } from './service-shutdown-action';
import { serviceShutdownOptionsSchema, type ServiceShutdownOptions } from './service-shutdown-options';

/** Creates service-shutdown actions over the container's {@link ServiceRegistry}. */
@injectable()
export class ServiceShutdownFactory implements SheddingActionFactory<ServiceShutdownOptions> {
  readonly id = 'service-shutdown';
  readonly description = 'Drain and stop services below a priority, lowest first; restart them on recovery';
  readonly optionsSchema = serviceShutdownOptionsSchema;
  private readonly created = new Set<ServiceShutdownAction>();

  constructor(@inject(ServiceRegistry) private readonly registry: ServiceRegistry) {}

  create(options: ServiceShutdownOptions): ServiceShutdownAction {
    const action = new ServiceShutdownAction(options, this.registry);
    this.created.add(action);
    return action;
  }

  /** Stops every created action's recovery watch (called when the container is torn down). */
  @preDestroy()
  dispose(): void {
    for (const action of this.created) action.dispose();
    this.created.clear();
  }
}
