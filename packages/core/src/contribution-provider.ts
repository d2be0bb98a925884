import type { Bind } from './inversify';

/**
 * Collects every binding of one extension point (Theia's contribution provider): plugins bind
 * their contributions to the point's symbol, consumers ask the provider. Empty gives `[]`;
 * results are resolved once and cached.
 */
export interface ContributionProvider<T> {
  /** Every contribution bound to the extension point, in binding order. */
  getContributions(): readonly T[];
}

/** A provider over an inversify container lookup (core's only implementation, not exported). */
class ContainerContributionProvider<T> implements ContributionProvider<T> {
  private cached: readonly T[] | undefined;

  constructor(private readonly resolve: () => T[]) {}

  getContributions(): readonly T[] {
    this.cached ??= Object.freeze(this.resolve());
    return this.cached;
  }
}

/** The service id under which the provider of `point` is bound. */
export function contributionProviderId(point: symbol): symbol {
  return Symbol.for(`ContributionProvider(${point.description ?? 'anonymous'})`);
}

/**
 * Binds a {@link ContributionProvider} for `point` in the root container: resolve it with
 * `container.get(contributionProviderId(point))`.
 */
export function bindContributionProvider(bind: Bind, point: symbol): void {
  bind<ContributionProvider<unknown>>(contributionProviderId(point))
    .toDynamicValue(
      (context) => new ContainerContributionProvider(() => context.getAll(point, { optional: true })),
    )
    .inSingletonScope();
}
