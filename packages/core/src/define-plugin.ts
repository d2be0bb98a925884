import { MemshedError } from './errors';
import {
  ContainerModule,
  type ContainerModuleLoadOptions,
  type ResolutionContext,
  type ServiceIdentifier,
} from './inversify';
import {
  PressureSourceFactory,
  SheddingActionFactory,
  type PluginDescriptor,
  type PressureSource,
  type SheddingAction,
} from './plugin';

/** What a plugin's `create` may take from memshed's container. */
export interface PluginServices {
  /**
   * The service bound to `id`: one the plugin's own `bind` bound (a registry its instances share),
   * or one the application bound (an environment).
   *
   * @throws inversify's error when nothing is bound to `id`.
   */
  get<T>(id: ServiceIdentifier<T>): T;
  /** The service bound to `id`, or `undefined` when nothing is. */
  find<T>(id: ServiceIdentifier<T>): T | undefined;
  /**
   * Calls `release` when memshed stops (its container is torn down), e.g. to end a watch an
   * action keeps between runs. Releases run in registration order; one that throws does not stop
   * the others.
   */
  onStop(release: () => void): void;
}

/** What every plugin declaration has: the descriptor, and the services it shares. */
interface PluginDeclarationBase<TOptions> extends PluginDescriptor<TOptions> {
  /**
   * Binds what the plugin's instances share, in the same module: a registry the application
   * registers into, a `MemshedFacet` that shows it as `memshed.<property>`, a rate limit.
   * `create` gets them back through {@link PluginServices.get}.
   */
  bind?(options: ContainerModuleLoadOptions): void;
}

/** A source kind, declared: `kind: 'source'` and how to create one from validated options. */
export interface SourcePluginDeclaration<TOptions> extends PluginDeclarationBase<TOptions> {
  readonly kind: 'source';
  /** A new, unstarted source. Called once per configured source. */
  create(options: TOptions, services: PluginServices): PressureSource;
}

/** An action kind, declared: `kind: 'action'` and how to create one from validated options. */
export interface ActionPluginDeclaration<TOptions> extends PluginDeclarationBase<TOptions> {
  readonly kind: 'action';
  /** A new action. Called once per step that names the action in a policy. */
  create(options: TOptions, services: PluginServices): SheddingAction;
}

/** A source or an action kind, as {@link definePlugin} takes it. */
export type PluginDeclaration<TOptions> =
  SourcePluginDeclaration<TOptions> | ActionPluginDeclaration<TOptions>;

/**
 * The ContainerModule a plugin package default-exports, from one declaration per source or action
 * kind it provides: its id, description, options schema and how to create an instance. Each kind
 * is bound as a `PressureSourceFactory` or a `SheddingActionFactory` (one singleton per container)
 * whose `create(options)` calls the declaration's `create(options, services)`.
 *
 * @example
 * export default definePlugin({
 *   kind: 'source',
 *   id: 'heartbeat',
 *   description: 'a steady low-pressure beat, for demonstration',
 *   optionsSchema: heartbeatOptionsSchema,
 *   create: (options) => new HeartbeatSource(options),
 * });
 *
 * @throws MemshedError `invalid-argument` when no declaration is given, a kind is neither
 *   `source` nor `action`, an id is empty, or two declarations of one kind share an id.
 */
export function definePlugin<const T extends readonly unknown[]>(
  ...declarations: { [K in keyof T]: PluginDeclaration<T[K]> }
): ContainerModule {
  const list = declarations as readonly PluginDeclaration<unknown>[];
  checkDeclarations(list);
  return new ContainerModule((options) => {
    for (const declaration of list) {
      declaration.bind?.(options);
      const point = declaration.kind === 'source' ? PressureSourceFactory : SheddingActionFactory;
      options
        .bind<DeclaredFactory>(point)
        .toDynamicValue((context) => new DeclaredFactory(declaration, context))
        .inSingletonScope()
        .onDeactivation((factory) => factory.stop());
    }
  });
}

/**
 * The factory a declaration becomes in one container (a `PressureSourceFactory` or a
 * `SheddingActionFactory`, as its binding says); it holds that container's releases.
 */
class DeclaredFactory {
  readonly id: string;
  readonly description: string;
  readonly optionsSchema: PluginDescriptor<unknown>['optionsSchema'];
  private readonly releases: (() => void)[] = [];
  private readonly services: PluginServices;

  constructor(
    private readonly declaration: PluginDeclaration<unknown>,
    context: ResolutionContext,
  ) {
    this.id = declaration.id;
    this.description = declaration.description;
    this.optionsSchema = declaration.optionsSchema;
    this.services = {
      get: (id) => context.get(id),
      find: (id) => context.get(id, { optional: true }),
      onStop: (release) => void this.releases.push(release),
    };
  }

  create(options: unknown): PressureSource | SheddingAction {
    return this.declaration.create(options, this.services);
  }

  stop(): void {
    for (const release of this.releases.splice(0)) {
      try {
        release();
      } catch {
        // Stopping must reach every release; a plugin's failing clean-up is its own to report.
      }
    }
  }
}

function checkDeclarations(list: readonly PluginDeclaration<unknown>[]): void {
  if (list.length === 0) {
    throw new MemshedError('invalid-argument', 'definePlugin() needs at least one declaration', {
      fix: "pass { kind: 'source' | 'action', id, description, optionsSchema, create }",
    });
  }
  const seen = new Set<string>();
  for (const [index, declaration] of list.entries()) {
    const kind: unknown = declaration.kind;
    if (kind !== 'source' && kind !== 'action') {
      throw new MemshedError(
        'invalid-argument',
        `definePlugin() declaration ${index} has kind ${JSON.stringify(kind)}`,
        { fix: "set kind to 'source' or 'action'" },
      );
    }
    if (typeof declaration.id !== 'string' || declaration.id === '') {
      throw new MemshedError('invalid-argument', `definePlugin() declaration ${index} has no id`, {
        fix: 'give it the id config names it by, e.g. "cache-purge"',
      });
    }
    const key = `${kind} ${declaration.id}`;
    if (seen.has(key)) {
      throw new MemshedError(
        'invalid-argument',
        `definePlugin() declares the ${kind} '${declaration.id}' twice`,
        { fix: 'give each source and each action of a package its own id' },
      );
    }
    seen.add(key);
  }
}
