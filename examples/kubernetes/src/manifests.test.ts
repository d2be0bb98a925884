import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PrometheusRule,
  type IPrometheusRule,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import {
  ServiceMonitor,
  type IServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import cachePurgeModule from '@memshed/action-cache-purge';
import gcModule from '@memshed/action-gc';
import { loadConfig } from '@memshed/config';
import { DEFAULT_LIVENESS_PATH, DEFAULT_READINESS_PATH } from '@memshed/http';
import { mountMetrics } from '@memshed/prometheus';
import psiModule from '@memshed/source-psi';
import systemModule from '@memshed/source-system';
import v8Module from '@memshed/source-v8';
import { ConfigMap, type IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service, type IService } from 'kubernetes-models/v1/Service';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { Registry } from 'prom-client';
import { NEVER } from 'rxjs';
import { parseAllDocuments } from 'yaml';
import { DEFAULT_CONFIG_FILE, DEFAULT_PORT } from './server';

const MANIFESTS = join(__dirname, '..', 'manifests');

/** Every document of every manifest file, parsed. */
/** A manifest as parsed: its type meta, the rest checked by its model. */
type Manifest = { apiVersion: string; kind: string } & Record<string, unknown>;

function manifests(): Array<{ file: string; object: Manifest }> {
  return readdirSync(MANIFESTS)
    .filter((file) => file.endsWith('.yaml'))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(MANIFESTS, file), 'utf8')).map((document) => {
        if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0].message}`);
        return { file, object: document.toJS() as Manifest };
      }),
    );
}

/** The Kubernetes model of each kind the example ships: validate() checks it against its schema. */
const MODELS: Partial<Record<string, (object: Manifest) => void>> = {
  'apps/v1 Deployment': (object) => new Deployment(object as unknown as IDeployment).validate(),
  'v1 Service': (object) => new Service(object as unknown as IService).validate(),
  'v1 ConfigMap': (object) => new ConfigMap(object as unknown as IConfigMap).validate(),
  'monitoring.coreos.com/v1 PrometheusRule': (object) =>
    new PrometheusRule(object as unknown as IPrometheusRule).validate(),
  'monitoring.coreos.com/v1 ServiceMonitor': (object) =>
    new ServiceMonitor(object as unknown as IServiceMonitor).validate(),
};

/** The one manifest of `kind`, typed by its model's interface. */
function one<T>(kind: string): T {
  const found = manifests().filter(({ object }) => object.kind === kind);
  expect(found).toHaveLength(1);
  return found[0].object as unknown as T;
}

/** The metric names @memshed/prometheus registers, with the series names of its histograms. */
async function exportedSeries(): Promise<Set<string>> {
  const registry = new Registry();
  const metrics = mountMetrics({ level$: NEVER, events$: NEVER }, { registry });
  const series = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    series.add(metric.name);
    if (String(metric.type) === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) series.add(metric.name + suffix);
    }
  }
  expect([...series]).toEqual(expect.arrayContaining([...metrics.names]));
  metrics.close();
  return series;
}

/** PromQL words that are not metric names: functions, aggregations, operators, modifiers. */
const PROMQL_WORDS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'count',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'quantile',
  'group',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'rate',
  'irate',
  'increase',
  'delta',
  'deriv',
  'avg_over_time',
  'max_over_time',
  'min_over_time',
  'sum_over_time',
  'count_over_time',
  'quantile_over_time',
  'histogram_quantile',
  'absent',
  'absent_over_time',
  'changes',
  'resets',
  'clamp_min',
  'clamp_max',
  'vector',
  'scalar',
  'time',
]);

/** The metric names a PromQL expression reads: what is left once strings, label sets, ranges and words are gone. */
function metricsOf(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  return [...bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)]
    .map(([name]) => name)
    .filter((name) => !PROMQL_WORDS.has(name));
}

describe('examples/kubernetes manifests', () => {
  it('are valid against the Kubernetes (and Prometheus Operator) schemas', () => {
    const all = manifests();
    expect(new Set(all.map(({ object }) => object.kind))).toEqual(
      new Set(['Deployment', 'Service', 'ConfigMap', 'PrometheusRule', 'ServiceMonitor']),
    );
    for (const { file, object } of all) {
      const validate = MODELS[`${object.apiVersion} ${object.kind}`];
      expect({ file, model: validate ? 'known' : `${object.apiVersion} ${object.kind}` }).toEqual({
        file,
        model: 'known',
      });
      expect(() => validate?.(object)).not.toThrow();
    }
  });

  it('the schemas catch a broken manifest (the check can fail)', () => {
    const broken = structuredClone(one<IDeployment>('Deployment'));
    broken.spec!.template.spec!.containers[0].resources!.limits!.memory = 'a lot';
    expect(() => new Deployment(broken).validate()).toThrow(/limits\/memory/);
  });

  it('runs the service non-root on a read-only root, with request = limit, probes on its paths and the config mounted read-only', () => {
    const deployment = one<IDeployment>('Deployment');
    const pod = deployment.spec!.template.spec!;
    const [container] = pod.containers;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(pod.securityContext!.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toEqual(
      expect.objectContaining({
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      }),
    );
    expect(container.resources!.requests!.memory).toBe(container.resources!.limits!.memory);

    const port = container.ports!.find((p) => p.name === 'http');
    expect(port?.containerPort).toBe(DEFAULT_PORT);
    expect(container.readinessProbe!.httpGet).toEqual({ path: DEFAULT_READINESS_PATH, port: 'http' });
    expect(container.livenessProbe!.httpGet).toEqual({ path: DEFAULT_LIVENESS_PATH, port: 'http' });

    const env = Object.fromEntries(container.env!.map((e) => [e.name, e.value ?? '']));
    expect(env.MEMSHED_CONFIG).toBe(DEFAULT_CONFIG_FILE);
    expect(env.MEMORY_PRESSURE_WATCH).toBe('/sys/fs/cgroup/memory.pressure');
    expect(Buffer.from(env.MEMORY_PRESSURE_WRITE, 'base64').toString()).toMatch(/^(some|full) \d+ \d+$/);

    const configMap = one<IConfigMap>('ConfigMap');
    const mount = container.volumeMounts!.find(
      (m) => join(m.mountPath, '.memshedrc.yaml') === DEFAULT_CONFIG_FILE,
    );
    expect(mount).toMatchObject({ readOnly: true });
    const volume = pod.volumes!.find((v) => v.name === mount!.name);
    expect(volume?.configMap?.name).toBe(configMap.metadata!.name);

    const service = one<IService>('Service');
    expect(service.spec!.selector).toEqual(deployment.spec!.selector.matchLabels);
    expect(service.spec!.ports![0].targetPort).toBe('http');
  });

  it("the ConfigMap's .memshedrc.yaml is a valid memshed config: v8 and system sources, the default policy", async () => {
    const directory = mkdtempSync(join(tmpdir(), 'memshed-k8s-'));
    try {
      const file = join(directory, '.memshedrc.yaml');
      writeFileSync(file, one<IConfigMap>('ConfigMap').data!['.memshedrc.yaml']);
      const loaded = await loadConfig({
        config: file,
        modules: [v8Module, systemModule, psiModule, cachePurgeModule, gcModule],
      });
      expect(loaded.sources.map((source) => source.use)).toEqual(expect.arrayContaining(['v8', 'system']));
      expect(loaded.policies.map((policy) => policy.do.map((step) => step.use))).toEqual([
        ['cache-purge', 'gc'],
      ]);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('alerts only on metrics @memshed/prometheus exports, each rule well formed', async () => {
    const series = await exportedSeries();
    const rules = one<IPrometheusRule>('PrometheusRule').spec.groups!.flatMap((group) => group.rules ?? []);
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect(rule).toEqual(
        expect.objectContaining({
          alert: expect.stringMatching(/^Memshed[A-Za-z]+$/),
          for: expect.stringMatching(/^\d+[smh]$/),
          labels: { severity: expect.stringMatching(/^(info|warning|critical)$/) },
          annotations: expect.objectContaining({
            summary: expect.any(String),
            description: expect.any(String),
          }),
        }),
      );
      const used = metricsOf(String(rule.expr));
      expect({ alert: rule.alert, reads: used.length > 0 }).toEqual({ alert: rule.alert, reads: true });
      for (const name of used) {
        expect({ alert: rule.alert, name, exported: series.has(name) }).toEqual({
          alert: rule.alert,
          name,
          exported: true,
        });
      }
    }
    // The reader itself: it finds the metric, not the functions and labels around it.
    expect(
      metricsOf('sum by (pod) (increase(memshed_action_runs_total{status=~"failed"}[10m])) > 0'),
    ).toEqual(['memshed_action_runs_total']);
  });

  it('the ServiceMonitor scrapes the Service port the metrics are on', () => {
    const monitor = one<IServiceMonitor>('ServiceMonitor');
    expect(monitor.spec.selector.matchLabels).toEqual(one<IService>('Service').metadata!.labels);
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
  });
});
