/**
 * @memshed/prometheus: memshed's pressure state, events, action runs, sources and the headroom they
 * watch as prom-client metrics, mounted on an existing registry or served on a loopback /metrics
 * endpoint.
 */
export { DEFAULT_DURATION_BUCKETS, mountMetrics } from './mount-metrics';
export type { MemshedMetrics, MetricsSource, MountMetricsOptions } from './mount-metrics';
export { DEFAULT_METRICS_PORT, metricsRequestListener, serveMetrics } from './serve-metrics';
export type { MetricsServer, ServeMetricsOptions } from './serve-metrics';
