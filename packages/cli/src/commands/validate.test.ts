import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { displayPath } from '@memshed/config';
import {
  MALFORMED_CONFIGS,
  VALID_CONFIGS,
  createCorpusDir,
  expectedLine,
  type CorpusCase,
} from '@memshed/config/testing';
import { ExitCode } from '../exit-codes';
import { main } from '../main';
import { bufferIo } from '../testing-io';

const BIN = join(__dirname, '..', '..', 'dist', 'bin.js');
const corpus = createCorpusDir();
afterAll(() => corpus.cleanup());

function expectFirstLine(output: string, testCase: CorpusCase, file: string, cwd = process.cwd()): void {
  const first = output.split('\n')[0];
  const expected = expectedLine(testCase, dirname(file), (f) => displayPath(f, cwd));
  if (typeof expected === 'string') expect(first).toBe(expected);
  else expect(first).toMatch(expected);
}

describe('memshed validate', () => {
  it.each(MALFORMED_CONFIGS.filter((c) => !c.binaryOnly).map((c) => [c.name, c] as const))(
    '%s: exit 2, the exact problem first',
    async (_name, testCase) => {
      const file = corpus.write(testCase);
      const io = bufferIo();
      expect(await main(['validate', ...(testCase.flags ?? []), file], io)).toBe(ExitCode.Usage);
      expectFirstLine(io.err(), testCase, file);
      expect(io.out()).toBe('');
    },
  );

  it.each(VALID_CONFIGS.map((c) => [c.name, c] as const))(
    '%s: exit 0 and a summary',
    async (_name, testCase) => {
      const file = corpus.write(testCase);
      const io = bufferIo();
      expect(await main(['validate', file], io)).toBe(ExitCode.Ok);
      expect(io.out().split('\n')[0]).toBe(`${displayPath(file)}: valid: 1 source, 2 policies`);
      expect(io.out()).toContain('policy trim: when medium for 500ms: test-purge -> test-gc, cooldown 10s');
      expect(io.out()).toContain('policy drop: when critical: ');
      expect(io.out()).toMatch(/policy drop: .*, again on each new signal while it holds\n/);
      expect(io.err()).toBe('');
    },
  );

  it('prints every problem, and a count', async () => {
    const file = corpus.write({
      name: 'cli-several',
      about: '',
      files: { '.memshedrc.yaml': 'sources: [{ use: 42 }]\ndryRun: 1\n' },
    });
    const io = bufferIo();
    expect(await main(['validate', file], io)).toBe(ExitCode.Usage);
    expect(io.err().trim().split('\n')).toEqual([
      `${displayPath(file)}: sources[0].use: expected a plugin id or module, got 42`,
      `${displayPath(file)}: dryRun: expected a boolean, got 1`,
      'memshed: 2 problems in the config',
    ]);
  });

  it('with --json, gives each problem with its position and fix', async () => {
    const testCase = MALFORMED_CONFIGS.find((c) => c.name === 'unknown-policy-key')!;
    const file = corpus.write(testCase);
    const io = bufferIo();
    expect(await main(['validate', '--json', file], io)).toBe(ExitCode.Usage);
    const report = JSON.parse(io.out()) as { valid: boolean; issues: Record<string, unknown>[] };
    expect(report.valid).toBe(false);
    expect(report.issues[0]).toEqual({
      kind: 'invalid-config',
      file: displayPath(file),
      path: 'policies[0].cooldwn',
      line: 7,
      column: 5,
      problem: "unknown key 'cooldwn'",
      fix: "Allowed here: name, when, do, cooldown, dryRun. Did you mean 'cooldown'?",
      message: expect.stringContaining("Did you mean 'cooldown'?"),
    });
  });

  it('with --json, describes a valid config', async () => {
    const file = corpus.write(VALID_CONFIGS[0]);
    const io = bufferIo();
    expect(await main(['validate', '--json', file], io)).toBe(ExitCode.Ok);
    const report = JSON.parse(io.out()) as { valid: boolean; policies: { name: string; forMs: number }[] };
    expect(report.valid).toBe(true);
    expect(report.policies.map((p) => [p.name, p.forMs])).toEqual([
      ['trim', 500],
      ['drop', 0],
    ]);
  });

  it('marks optional sources in the summary and in --json', async () => {
    const file = corpus.write({
      name: 'cli-optional',
      about: '',
      files: {
        '.memshedrc.yaml':
          'plugins: [./plugins/test-plugins.cjs]\nsources:\n  - use: test-absent\n    optional: true\n  - use: test-pulse\n',
      },
    });
    const text = bufferIo();
    expect(await main(['validate', file], text)).toBe(ExitCode.Ok);
    expect(text.out()).toContain('  sources: test-absent (optional), test-pulse\n');
    const json = bufferIo();
    expect(await main(['validate', '--json', file], json)).toBe(ExitCode.Ok);
    const report = JSON.parse(json.out()) as { sources: { use: string; optional: boolean }[] };
    expect(report.sources.map((source) => [source.use, source.optional])).toEqual([
      ['test-absent', true],
      ['test-pulse', false],
    ]);
  });

  it('exits 2 for a config file that does not exist', async () => {
    const io = bufferIo();
    const missing = join(corpus.root, 'nothing-here.yaml');
    expect(await main(['validate', missing], io)).toBe(ExitCode.Usage);
    expect(io.err()).toBe(`${displayPath(missing)}: no such file. Check the path\n`);
  });
});

describe('memshed validate (built binary)', () => {
  const cases = [
    ...MALFORMED_CONFIGS.filter(
      (c) =>
        c.binaryOnly ||
        ['yaml-duplicate-key', 'unknown-action-id', 'cjs-syntax', 'safe-mode-js', 'ts-syntax'].includes(
          c.name,
        ),
    ),
  ];

  beforeAll(() => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npx tsc -b\` first`);
  });

  it.each(cases.map((c) => [c.name, c] as const))(
    '%s: exit 2, the exact problem first',
    (_name, testCase) => {
      const file = corpus.write(testCase);
      const dir = dirname(file);
      const result = spawnSync(process.execPath, [BIN, 'validate', ...(testCase.flags ?? []), file], {
        cwd: dir,
        encoding: 'utf8',
      });
      expect(result.status).toBe(ExitCode.Usage);
      expectFirstLine(result.stderr, testCase, file, dir);
    },
  );

  it('exits 2 when no config is found from the working directory, saying what to create', () => {
    const dir = join(corpus.root, 'empty-project');
    mkdirSync(join(dir, '.git'), { recursive: true });
    for (const command of ['validate', 'run']) {
      const result = spawnSync(process.execPath, [BIN, command], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, XDG_CONFIG_HOME: dir },
      });
      expect(result.status).toBe(ExitCode.Usage);
      expect(result.stderr.split('\n')[0]).toBe(
        `${dir}: no memshed config found here or in the directories above (up to ${dir}). Create .memshedrc.yaml (or .memshedrc.json, memshed.config.js, or a "memshed" key in package.json), or pass --config FILE`,
      );
    }
  });

  it.each(
    VALID_CONFIGS.filter((c) => ['valid-mjs', 'valid-ts', 'valid-package-json'].includes(c.name)).map(
      (c) => [c.name, c] as const,
    ),
  )('%s: found from its directory, exit 0', (_name, testCase) => {
    const file = corpus.write(testCase);
    const result = spawnSync(process.execPath, [BIN, 'validate'], { cwd: dirname(file), encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(ExitCode.Ok);
    expect(result.stdout.split('\n')[0]).toBe(
      `${Object.keys(testCase.files)[0]}: valid: 1 source, 2 policies`,
    );
  });
});
