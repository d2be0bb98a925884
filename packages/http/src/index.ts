/**
 * @memshed/http: HTTP load shedding driven by memory pressure. One core ({@link LoadShedder})
 * follows memshed's state and decides per request; thin adapters plug it into node:http, Express
 * 5 and Koa; the Fastify plugin is `@memshed/http/fastify`. {@link Readiness} and its probe
 * adapters turn sustained pressure into a Kubernetes readiness answer.
 */
export { LoadShedder, isLoadShedder } from './load-shedder';
export type { ClosableResponse } from './load-shedder';
export {
  DEFAULT_RELEASE_MIN_BYTES,
  DEFAULT_RETRY_AFTER_SECONDS,
  DEFAULT_SHED_MESSAGE,
  DEFAULT_STATUS_ROUTE,
} from './load-shedder-options';
export type { LoadSheddingOptions, PressureStateSource, ReleaseOptions } from './load-shedder-options';
export type {
  LoadShedderCounters,
  LoadShedderStatus,
  ShedBody,
  ShedDecision,
  ShedderRelease,
  StatusEvent,
} from './load-shedder-status';
export {
  DEFAULT_SHEDDING_LEVELS,
  ROUTE_PRIORITIES,
  checkRoutePriority,
  isRoutePriority,
  resolveSheddingLevels,
} from './route-priority';
export type { RoutePriority, SheddingLevels } from './route-priority';
export { compileRouteRules, matchRoute, pathnameOf } from './route-rules';
export type { CompiledRouteRule, RouteRule } from './route-rules';
export { loadShedding, sendShed, withLoadShedding } from './node-adapter';
export type {
  LoadSheddingMiddleware,
  NodeAdapterOptions,
  NodeLoadSheddingOptions,
  NodePressureHandler,
} from './node-adapter';
export { koaLoadShedding } from './koa-adapter';
export type {
  KoaAdapterOptions,
  KoaContextLike,
  KoaLoadSheddingMiddleware,
  KoaLoadSheddingOptions,
  KoaPressureHandler,
} from './koa-adapter';
export { Readiness, isReadiness } from './readiness';
export type { NotReadyReason, ReadinessStatus } from './readiness';
export {
  DEFAULT_CHECK_TIMEOUT_MS,
  DEFAULT_LIVENESS_PATH,
  DEFAULT_READINESS_HOLD_MS,
  DEFAULT_READINESS_PATH,
  DEFAULT_READINESS_RECOVERY_MS,
} from './readiness-options';
export type {
  ReadinessCheck,
  ReadinessCheckResult,
  ReadinessOptions,
  ResolvedReadinessOptions,
} from './readiness-options';
export { LIVENESS_BODY, koaReadinessProbes, readinessProbes } from './readiness-probes';
export type { KoaReadinessProbesMiddleware, ReadinessProbesMiddleware } from './readiness-probes';
// The Fastify plugins are in `@memshed/http/fastify`: their declarations import and augment fastify's
// types, which would break the type check of every app without fastify installed.
