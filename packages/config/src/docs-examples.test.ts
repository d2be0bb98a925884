import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './load-config';

/** The YAML blocks of docs/configuration.md whose first line is `# example: FILE`. */
function examples(): { file: string; text: string }[] {
  const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'configuration.md'), 'utf8');
  return [...doc.matchAll(/```yaml\n# example: (\S+)[^\n]*\n([\s\S]*?)```/g)].map((match) => ({
    file: match[1],
    text: match[2],
  }));
}

describe('docs/configuration.md', () => {
  const dir = mkdtempSync(join(tmpdir(), 'memshed-docs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const blocks = examples();
  for (const block of blocks) writeFileSync(join(dir, block.file), block.text);

  it('has the three examples the issue asks for', () => {
    expect(blocks.map((block) => block.file)).toEqual([
      'node-service.yaml',
      'electron-app.yaml',
      'fleet.yaml',
      'host.yaml',
    ]);
  });

  it.each(blocks.map((block) => [block.file] as const))(
    '%s validates against the built-in plugins',
    async (file) => {
      const loaded = await loadConfig({ config: join(dir, file), cwd: dir });
      expect(loaded.sources.length).toBeGreaterThan(0);
      expect(loaded.policies.length).toBeGreaterThan(0);
    },
  );

  it('marks the kernel sources of the container example optional, for hosts of either cgroup version', async () => {
    const loaded = await loadConfig({ config: join(dir, 'node-service.yaml'), cwd: dir });
    expect(loaded.sources.map((source) => [source.use, source.optional])).toEqual([
      ['cgroup-v1', true],
      ['psi', true],
    ]);
  });

  it('merges the sidecar host file over the fleet file', async () => {
    const loaded = await loadConfig({ config: join(dir, 'host.yaml'), cwd: dir });
    expect(loaded.policies.map((policy) => policy.name)).toEqual(['reclaim-struggling', 'near-oom']);
    expect({ dryRun: loaded.dryRun, quiet: loaded.recovery.quiet, timeout: loaded.actionTimeout }).toEqual({
      dryRun: true,
      quiet: 15_000,
      timeout: 30_000,
    });
  });
});
