import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from './support/run-built-node';

// The built service of examples/kubernetes as its container runs it (`node dist/main.js`, settings
// from the environment, the ConfigMap's config, stopped by SIGTERM), with the real sources of this
// machine. The probes' timing is tested in virtual time in the example's own tests.

const EXAMPLE = path.join(REPO_ROOT, 'examples', 'kubernetes');
const MAIN = path.join(EXAMPLE, 'dist', 'main.js');

/** The ConfigMap's .memshedrc.yaml. */
function configMapConfig(): string {
  const [document] = parseAllDocuments(
    readFileSync(path.join(EXAMPLE, 'manifests', 'configmap.yaml'), 'utf8'),
  );
  return (document.toJS() as { data: Record<string, string> }).data['.memshedrc.yaml'];
}

/** The JSON lines the service writes, as they come. */
function jsonLines(child: ChildProcess): AsyncIterator<Record<string, unknown>> {
  const lines = createInterface({ input: child.stdout! });
  const iterator = lines[Symbol.asyncIterator]();
  return {
    async next() {
      const { value, done } = await iterator.next();
      return done
        ? { value: undefined, done: true }
        : { value: JSON.parse(value) as Record<string, unknown> };
    },
  };
}

describe('examples/kubernetes built service', () => {
  let directory: string;
  let child: ChildProcess | undefined;
  let stderr = '';

  beforeAll(() => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first (npm test does)`);
    directory = mkdtempSync(path.join(tmpdir(), 'memshed-k8s-e2e-'));
  });

  afterAll(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
  });

  it('starts from the environment and the ConfigMap config, answers the probes and metrics, stops on SIGTERM', async () => {
    const config = path.join(directory, '.memshedrc.yaml');
    writeFileSync(config, configMapConfig());
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', HOST: '127.0.0.1', MEMSHED_CONFIG: config };
    // The Deployment's value names the pod's own cgroup v2 group; on this machine it is not one.
    delete env.MEMORY_PRESSURE_WATCH;
    delete env.MEMORY_PRESSURE_WRITE;
    child = spawn(process.execPath, [MAIN], { cwd: EXAMPLE, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const lines = jsonLines(child);

    const first = await lines.next();
    expect({ first: first.value, stderr }).toEqual({
      first: expect.objectContaining({ listening: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) }),
      stderr: expect.any(String),
    });
    const { listening, sources } = first.value as { listening: string; sources: string[] };
    // The default policy's portable sources run everywhere; psi depends on the machine.
    expect(sources).toEqual(expect.arrayContaining(['v8:running', 'system:running']));

    const readyz = await fetch(`${listening}/readyz`);
    expect({ status: readyz.status, body: await readyz.json() }).toEqual({
      status: 200,
      body: { ready: true, state: 'normal' },
    });
    expect((await fetch(`${listening}/livez`)).status).toBe(200);
    expect(await (await fetch(`${listening}/metrics`)).text()).toContain(
      'memshed_source_available{source="v8"} 1',
    );
    expect((await fetch(`${listening}/api/items/e2e`)).status).toBe(200);

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect({ code, stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  }, 30_000);
});
