import { MemshedError } from '@memshed/core';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinScenarioNames, loadScenario, parseScenario, validateScenario } from './scenario-loader';
import { IO_PER_SCAN } from './vmscan';

const MIB = 1024 ** 2;

const minimal = `
groups:
  app:
    limit: 256MiB
workloads:
  - name: web
    group: app
    heap: 32MiB
    rate: 1MiB/s
`;

function errorOf(action: () => unknown): MemshedError {
  try {
    action();
  } catch (error) {
    if (MemshedError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a MemshedError');
}

describe('builtinScenarioNames', () => {
  it('lists the shipped scenarios', () => {
    expect(builtinScenarioNames()).toEqual(
      expect.arrayContaining(['steady', 'ramp', 'spike', 'thrash', 'leak']),
    );
  });
});

describe('loadScenario', () => {
  it.each(builtinScenarioNames())('loads the built-in %s, valid and described', (name) => {
    const scenario = loadScenario(name);
    expect(scenario.name).toBe(name);
    expect(scenario.description.length).toBeGreaterThan(10);
    expect(scenario.workloads.length).toBeGreaterThan(0);
  });

  it('parses units: sizes to bytes, rates to bytes per second, durations to ms', () => {
    const ramp = loadScenario('ramp');
    expect(ramp.groups.app.limit).toBe(256 * MIB);
    expect(ramp.duration).toBe(600_000);
    expect(ramp.workloads[0].files.reads).toBe(12 * MIB);
    expect(ramp.workloads[0].phases[1].for).toBe(360_000);
    expect(ramp.recovery.quiet).toBe(5000);
  });

  it('suggests a built-in for a mistyped name', () => {
    const error = errorOf(() => loadScenario('rmp'));
    expect(error.kind).toBe('invalid-argument');
    expect(error.message).toContain("Unknown scenario 'rmp'");
    expect(error.message).toBe(
      "Unknown scenario 'rmp' (built-in: leak, neighbours, ramp, refill, spike, steady, thrash). " +
        "Fix: did you mean 'ramp'? Or give the path of a YAML or JSON scenario file",
    );
  });

  it('says so when a file does not exist', () => {
    const error = errorOf(() => loadScenario('./nope/missing.yaml'));
    expect(error.kind).toBe('invalid-argument');
    expect(error.message).toContain('Scenario file not found: ./nope/missing.yaml');
  });

  it('loads YAML and JSON files relative to cwd, named after the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'memshed-scenario-'));
    try {
      writeFileSync(join(dir, 'mine.yaml'), minimal);
      writeFileSync(
        join(dir, 'other.json'),
        JSON.stringify({ workloads: [{ name: 'web', group: '/', heap: '8MiB' }] }),
      );
      expect(loadScenario('mine.yaml', dir).name).toBe('mine');
      const json = loadScenario('./other.json', dir);
      expect(json.name).toBe('other');
      expect(json.workloads[0].heap).toBe(8 * MIB);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('parseScenario', () => {
  it('applies the defaults', () => {
    const scenario = parseScenario(minimal, 'minimal.yaml');
    expect(scenario).toMatchObject({
      name: 'minimal',
      duration: 600_000,
      tick: 20,
      sample: 1000,
      seed: 1,
      machine: { memory: 1024 ** 3, swap: 0, swappiness: 60, ioPerScan: IO_PER_SCAN },
      policies: [],
      recovery: { quiet: 5000 },
    });
    expect(scenario.workloads[0]).toMatchObject({ hot: 0.9, leak: 0, jitter: 0.1, restart: 5000 });
  });

  it('names the file, the key path and the line of a wrong type', () => {
    const error = errorOf(() => parseScenario(minimal.replace('rate: 1MiB/s', 'rate: fast'), 'ramp.yaml'));
    expect(error.kind).toBe('invalid-config');
    expect(error.message).toBe(
      "ramp.yaml: workloads[0].rate: Invalid rate 'fast'. Fix: write a size per second such as '2MiB/s' (or per minute, '30MiB/m'), or a number of bytes per second (line 9, column 11)",
    );
    expect(error.context).toMatchObject({ file: 'ramp.yaml', path: 'workloads[0].rate' });
  });

  it('says "expected a number" for a plain number field', () => {
    const error = errorOf(() => parseScenario(`${minimal}    hot: fast\n`, 'ramp.yaml'));
    expect(error.message).toBe(
      'ramp.yaml: workloads[0].hot: expected a number, got "fast" (line 10, column 10)',
    );
  });

  it('names an unknown key and suggests the known one', () => {
    const error = errorOf(() => parseScenario(minimal.replace('rate:', 'rat:'), 'ramp.yaml'));
    expect(error.message).toMatch(
      /^ramp\.yaml: workloads\[0\]\.rat: unknown key\. Known: name, group, heap, rate,/,
    );
    expect(error.message).toContain("Did you mean 'rate'?");
    expect(error.message).toContain('(line 9');
  });

  it('says a required key is missing', () => {
    const error = errorOf(() => parseScenario('groups: {}\n', 'empty.yaml'));
    expect(error.message).toBe('empty.yaml: workloads: required');
  });

  it('rejects an enum value with the choices and a suggestion', () => {
    const text = `${minimal}    services:\n      - { name: a, priority: hig }\n`;
    const error = errorOf(() => parseScenario(text, 's.yaml'));
    expect(error.message).toContain(
      's.yaml: workloads[0].services[0].priority: expected one of background, low, normal, high, got "hig". Did you mean \'high\'?',
    );
  });

  it('reports a YAML syntax error with its position', () => {
    const error = errorOf(() => parseScenario('groups: [1\nworkloads: 2\n', 'broken.yaml'));
    expect(error.kind).toBe('invalid-config');
    expect(error.message).toMatch(/^broken\.yaml:\d+:\d+: not valid YAML or JSON: /);
  });

  it('rejects a workload in an unknown group, suggesting the known one', () => {
    const error = errorOf(() => parseScenario(minimal.replace('group: app', 'group: ap'), 'g.yaml'));
    expect(error.message).toBe(
      "g.yaml: workloads[0].group: unknown group 'ap'. Known: app. Did you mean 'app'? (line 7, column 12)",
    );
  });

  it('rejects two workloads in one group and duplicate names', () => {
    const twice = `${minimal}  - name: other\n    group: app\n`;
    expect(errorOf(() => parseScenario(twice, 't.yaml')).message).toContain(
      "t.yaml: workloads[1].group: group 'app' already runs workloads[0]: one workload per group",
    );
    const caches = `${minimal}    caches:\n      - { name: c, max: 1MiB }\n      - { name: c, max: 1MiB }\n`;
    expect(errorOf(() => parseScenario(caches, 'c.yaml')).message).toContain(
      "c.yaml: workloads[0].caches[1].name: duplicate name 'c'",
    );
  });

  it('checks policies: known actions and their options', () => {
    const policy = (action: string) =>
      `${minimal}policies:\n  - name: p\n    when: { level: medium }\n    do:\n      - ${action}\n`;
    const parsed = parseScenario(policy('use: cache-purge'), 'p.yaml').policies[0];
    expect(parsed).toMatchObject({ name: 'p', when: { level: 'medium', for: 0 } });
    // memshed config's policy schema: no cooldown unless written (the policy keeps up).
    expect(parsed.cooldown).toBeUndefined();
    expect(errorOf(() => parseScenario(policy('use: cache-prge'), 'p.yaml')).message).toContain(
      "p.yaml: policies[0].do[0].use: unknown action 'cache-prge' (the simulator rehearses cache-purge, service-shutdown, gc). Did you mean 'cache-purge'?",
    );
    expect(
      errorOf(() => parseScenario(policy('{ use: cache-purge, with: { fraction: 2 } }'), 'p.yaml')).message,
    ).toContain('p.yaml: policies[0].do[0].with.fraction: must be at most 1, got 2');
    expect(
      errorOf(() => parseScenario(policy('{ use: service-shutdown, with: { belowe: low } }'), 'p.yaml'))
        .message,
    ).toContain(
      "p.yaml: policies[0].do[0].with.belowe: unknown key. Known: below, levels, timeout, forceTimeout, restart. Did you mean 'below'?",
    );
  });

  it('rejects a data set smaller than its working set', () => {
    const text = `${minimal}    files: { size: 8MiB, workingSet: 16MiB }\n`;
    expect(errorOf(() => parseScenario(text, 'f.yaml')).message).toContain(
      'f.yaml: workloads[0].files.size: the data set must be at least the working set',
    );
  });

  it('counts the other problems', () => {
    const text = minimal.replace('rate: 1MiB/s', 'rate: fast\n    hot: 7\n    leak: lots');
    expect(errorOf(() => parseScenario(text, 'm.yaml')).message).toMatch(/\(and 2 more problems\)$/);
  });
});

describe('validateScenario', () => {
  it('validates objects built in code, naming the given file', () => {
    const scenario = validateScenario({ workloads: [{ name: 'web', group: '/', heap: 4096 }] }, 'inline');
    expect(scenario.name).toBe('inline');
    expect(scenario.workloads[0].heap).toBe(4096);
    expect(errorOf(() => validateScenario({ workloads: [] }, 'inline')).message).toBe(
      'inline: workloads: expected at least 1 item',
    );
  });
});
