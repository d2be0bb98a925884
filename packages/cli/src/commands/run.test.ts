import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createCorpusDir, type CorpusCase } from '@memshed/config/testing';
import { ExitCode } from '../exit-codes';
import { main } from '../main';
import { bufferIo } from '../testing-io';

const BIN = join(__dirname, '..', '..', 'dist', 'bin.js');
const corpus = createCorpusDir();
afterAll(() => corpus.cleanup());

/** A config whose source signals critical every 20 ms and whose policy purges (taking `delay` ms) then collects. */
function runConfig(name: string, delay: number, extra = ''): CorpusCase {
  return {
    name,
    about: 'memshed run',
    files: {
      '.memshedrc.yaml': `plugins: [./plugins/test-plugins.cjs]
sources:
  - use: test-pulse
    with: { level: critical, every: 20, reason: 'test pulse' }
policies:
  - name: shed
    when: { level: medium, for: 40ms }
    do:
      - use: test-purge
        with: { fraction: 0.25, delay: ${delay}, freed: 4096 }
      - use: test-gc
${extra}`,
    },
  };
}

type Line = Record<string, unknown> & { type: string };

/** Resolves when `predicate` holds for the output so far (checked on each write). */
function whenOutput(stream: NodeJS.EventEmitter, predicate: (text: string) => boolean): Promise<string> {
  let text = '';
  return new Promise((resolve) => {
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      if (predicate(text)) {
        stream.off('data', onData);
        resolve(text);
      }
    };
    stream.on('data', onData);
  });
}

function jsonLines(text: string): Line[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Line);
}

describe('memshed run', () => {
  it('applies the policies, logs each decision as JSON lines, and stops cleanly on SIGTERM', async () => {
    const file = corpus.write(runConfig('run-json', 0));
    const io = bufferIo();
    const seen = whenOutput(io.stdout, (text) => text.includes('"type":"completed"'));
    const exit = main(['run', '--config', file, '--json'], io);
    await seen;
    process.emit('SIGTERM', 'SIGTERM');
    expect(await exit).toBe(ExitCode.Ok);
    const lines = jsonLines(io.out());
    const types = lines.map((line) => line.type);
    expect(types.slice(0, 4)).toEqual(['source', 'started', 'armed', 'fired']);
    expect(types.slice(-2)).toEqual(['stopping', 'stopped']);
    expect(lines.find((line) => line.type === 'fired')).toMatchObject({
      policy: 'shed',
      state: 'critical',
      reason: 'episode',
      run: 1,
      dryRun: false,
      trigger: { level: 'critical', scope: '/', source: 'test-pulse', reason: 'test pulse' },
    });
    // A signalled event says when its source saw the level: never after the decision it caused.
    const fired = lines.find((line) => line.type === 'fired')!;
    const signalledAt = Date.parse(String((fired.trigger as Record<string, unknown>).signalledAt));
    expect(signalledAt).toBeLessThanOrEqual(Date.parse(String(fired.time)));
    expect(lines.filter((line) => line.type === 'action').slice(0, 2)).toMatchObject([
      { policy: 'shed', action: 'test-purge', status: 'ok', freedBytes: 4096, summary: 'purged 25%' },
      { policy: 'shed', action: 'test-gc', status: 'ok', freedBytes: 2048 },
    ]);
    expect(lines.find((line) => line.type === 'completed')).toMatchObject({
      ended: 'completed',
      freedBytes: 6144,
      steps: 2,
    });
    for (const line of lines) expect(Number.isNaN(Date.parse(String(line.time)))).toBe(false);
    expect(process.listenerCount('SIGTERM')).toBe(0);
  });

  it('runs a policy again on a new signal after its run, backing off a run that freed less than 1 MiB', async () => {
    const file = corpus.write(runConfig('run-again', 0));
    const io = bufferIo();
    const seen = whenOutput(io.stdout, (text) => text.includes('"reason":"signal"'));
    const exit = main(['run', '--config', file, '--json'], io);
    await seen;
    process.emit('SIGTERM', 'SIGTERM');
    expect(await exit).toBe(ExitCode.Ok);
    const lines = jsonLines(io.out()).filter((line) => ['fired', 'backed-off'].includes(line.type));
    expect(lines.slice(0, 3)).toMatchObject([
      { type: 'fired', reason: 'episode', run: 1 },
      {
        type: 'backed-off',
        policy: 'shed',
        delayMs: 100,
        fruitless: 1,
        why: expect.stringMatching(
          /^freed 6 KiB, less than 1 MiB: test-purge freed 4 KiB \(purged 25%\); test-gc freed 2 KiB/,
        ),
      },
      {
        type: 'fired',
        reason: 'signal',
        run: 2,
        signal: { level: 'critical', scope: '/', source: 'test-pulse' },
      },
    ]);
  });

  it('--dry-run: actions report what they would do, in human lines', async () => {
    const file = corpus.write(runConfig('run-dry', 0));
    const io = bufferIo();
    const seen = whenOutput(io.stdout, (text) => /done {5}shed/.test(text));
    const exit = main(['run', '--config', file, '--dry-run'], io);
    await seen;
    process.emit('SIGINT', 'SIGINT');
    expect(await exit).toBe(ExitCode.Ok);
    const out = io.out();
    expect(out).toMatch(/running .*\.memshedrc\.yaml: 1 policy \(shed\), dry run; SIGINT or SIGTERM to stop/);
    expect(out).toMatch(
      /fired {4}shed: first run of the episode, state critical held \d+ms \(last: critical at \/ from test-pulse: test pulse\), dry run/,
    );
    // A dry run frees nothing: while the state holds, the policy backs off rather than re-running.
    expect(out).toMatch(
      /backoff {2}shed: next run in 100ms at the earliest; nothing freed: test-purge dry run; test-gc dry run/,
    );
    expect(out).toMatch(/action {3}shed: test-purge ok, freed 0 B: would purge 25% \(dry run\)/);
    expect(out).toMatch(/stopping \(SIGINT\)\n.*stopped\n$/);
  });

  it('--for stops by itself', async () => {
    const file = corpus.write(runConfig('run-for', 0));
    const io = bufferIo();
    expect(await main(['run', '--config', file, '--for', '100ms', '--json'], io)).toBe(ExitCode.Ok);
    expect(jsonLines(io.out()).at(-2)).toMatchObject({ type: 'stopping', reason: '--for 100ms' });
  });

  it('shows an optional source that is unavailable as skipped, with why, and no error', async () => {
    const sources = `plugins: [./plugins/test-plugins.cjs]
sources:
  - use: test-absent
    optional: true
  - use: test-pulse
`;
    const file = corpus.write({ name: 'run-optional', about: '', files: { '.memshedrc.yaml': sources } });
    const json = bufferIo();
    expect(await main(['run', '--config', file, '--for', '100ms', '--json'], json)).toBe(ExitCode.Ok);
    const lines = jsonLines(json.out());
    expect(lines.filter((line) => line.type === 'source')).toEqual([
      {
        time: expect.any(String),
        type: 'source',
        source: 'test-absent',
        state: 'unavailable',
        optional: true,
        detail: 'not on this test machine',
      },
      expect.objectContaining({ source: 'test-pulse', state: 'running' }),
    ]);
    expect(lines.filter((line) => line.type === 'error')).toEqual([]);
    expect(json.err()).toBe('');

    const text = bufferIo();
    expect(await main(['run', '--config', file, '--for', '100ms'], text)).toBe(ExitCode.Ok);
    expect(text.out()).toMatch(
      /source {3}test-absent: skipped, optional and unavailable here \(not on this test machine\)\n/,
    );
    expect(text.err()).toBe('');

    // Not optional, the same source is an error, as before.
    const required = corpus.write({
      name: 'run-required',
      about: '',
      files: { '.memshedrc.yaml': sources.replace('optional: true', 'optional: false') },
    });
    const loud = bufferIo();
    expect(await main(['run', '--config', required, '--for', '100ms'], loud)).toBe(ExitCode.Ok);
    expect(loud.out()).toMatch(
      /source {3}test-absent: unavailable \(Source 'test-absent' is unavailable: not on this test machine\. Fix: use test-pulse\)\n/,
    );
  });

  it('exits 1 saying that nothing runs when every source is optional and unavailable', async () => {
    const file = corpus.write({
      name: 'run-nothing',
      about: '',
      files: {
        '.memshedrc.yaml':
          'plugins: [./plugins/test-plugins.cjs]\nsources:\n  - use: test-absent\n    optional: true\n',
      },
    });
    const io = bufferIo();
    expect(await main(['run', '--config', file], io)).toBe(ExitCode.Failure);
    expect(io.out()).toMatch(/source {3}test-absent: skipped, optional and unavailable here/);
    // Nothing to wait for: the start line does not ask for a signal.
    expect(io.out()).toMatch(/running .*\.memshedrc\.yaml: 0 policies\n/);
    expect(io.err().split('\n')).toEqual([
      'memshed: No source is running, memshed watches nothing: test-absent (optional) unavailable: not on this test machine. Fix: make one of these sources available here, or add one that is (run `memshed doctor` to see which work on this machine)',
      'memshed: no source could start; run `memshed doctor` to see why',
      '',
    ]);
  });

  it('exits 2 for a bad config, before starting anything', async () => {
    const file = corpus.write({
      name: 'run-bad',
      about: '',
      files: {
        '.memshedrc.yaml': 'sources: [{ use: test-pulse }]\npolicies: [{ when: { level: hot }, do: [] }]\n',
      },
    });
    const io = bufferIo();
    expect(await main(['run', '--config', file], io)).toBe(ExitCode.Usage);
    expect(io.err()).toMatch(/policies\[0\]\.when\.level: expected one of low, medium, critical, got 'hot'/);
    expect(io.out()).toBe('');
  });

  it('exits 2 for a bad --grace', async () => {
    const io = bufferIo();
    expect(await main(['run', '--grace', 'soon'], io)).toBe(ExitCode.Usage);
    expect(io.err()).toContain("Invalid duration 'soon'");
  });
});

describe('memshed run (built binary, real signals)', () => {
  beforeAll(() => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npx tsc -b\` first`);
  });

  async function runUntilFired(name: string, delay: number, args: string[]) {
    const file = corpus.write(runConfig(name, delay));
    const child = spawn(process.execPath, [BIN, 'run', '--json', ...args], {
      cwd: dirname(file),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const waiters: { text: string; resolve: () => void }[] = [];
    const check = () => {
      for (const waiter of [...waiters]) {
        if (stdout.includes(waiter.text)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    };
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      check();
    });
    /** Resolves once stdout has `text` (at once if it has already). */
    const until = (text: string) =>
      new Promise<void>((resolve) => {
        waiters.push({ text, resolve });
        check();
      });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    await until('"type":"fired"');
    return { child, exited, until, output: () => ({ stdout, stderr }) };
  }

  it('on SIGTERM, lets the running action finish within the grace period, then exits 0', async () => {
    const { child, exited, output } = await runUntilFired('bin-grace', 300, ['--grace', '5s']);
    const sent = Date.now();
    child.kill('SIGTERM');
    const { code, signal } = await exited;
    const elapsed = Date.now() - sent;
    expect({ code, signal, stderr: output().stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    const lines = jsonLines(output().stdout);
    const stopping = lines.findIndex((line) => line.type === 'stopping');
    expect(lines[stopping]).toMatchObject({ reason: 'SIGTERM', graceMs: 5000 });
    const after = lines.slice(stopping + 1);
    expect(after.find((line) => line.type === 'action')).toMatchObject({
      action: 'test-purge',
      status: 'ok',
    });
    expect(after.at(-1)).toMatchObject({ type: 'stopped' });
    expect(elapsed).toBeLessThan(5000);
  });

  it('on SIGTERM with a short grace, cancels the running action through its signal, then exits 0', async () => {
    const { child, exited, output } = await runUntilFired('bin-cancel', 60_000, ['--grace', '100ms']);
    const sent = Date.now();
    child.kill('SIGTERM');
    const { code } = await exited;
    const elapsed = Date.now() - sent;
    expect(code).toBe(0);
    const lines = jsonLines(output().stdout);
    const purge = lines.find((line) => line.type === 'action' && line.action === 'test-purge');
    expect(purge).toMatchObject({ status: 'cancelled' });
    expect(lines.find((line) => line.type === 'completed')).toMatchObject({ ended: 'cancelled' });
    expect(lines.at(-1)).toMatchObject({ type: 'stopped' });
    expect(elapsed).toBeLessThan(3000);
  });

  it('a second SIGINT cancels at once instead of waiting for the grace period', async () => {
    const { child, exited, until, output } = await runUntilFired('bin-twice', 60_000, ['--grace', '60s']);
    const sent = Date.now();
    child.kill('SIGINT');
    await until('"type":"stopping"');
    child.kill('SIGINT');
    expect((await exited).code).toBe(0);
    expect(Date.now() - sent).toBeLessThan(5000);
    expect(jsonLines(output().stdout).find((line) => line.action === 'test-purge')).toMatchObject({
      status: 'cancelled',
    });
  });
});
