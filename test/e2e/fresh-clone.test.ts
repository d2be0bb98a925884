import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT as root } from './support/run-built-node';
import { outsideEnvironment, progress, runCommand } from './support/run-command';

// The README's setup in a fresh clone of this repository's current commit: `npx memshed` must be
// the workspace's CLI. npm links a workspace's bin only if its target exists at `npm ci` time, and
// npx without the link fetches the registry's unscoped `memshed`, which anyone could publish.
// Slow (a whole `npm ci` and build): the kernel project runs it.

describe('a fresh clone of the repository after `npm ci && npm run build`', () => {
  let work: string | undefined;

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('runs the workspace CLI for `npx memshed`: a clear message before the build, the version after', () => {
    work = mkdtempSync(path.join(tmpdir(), 'memshed-clone-'));
    const clone = path.join(work, 'memshed');
    const head = runCommand('git', ['rev-parse', 'HEAD'], root).trim();
    progress(`git clone of ${head.slice(0, 12)} into ${clone}`);
    runCommand('git', ['clone', '--quiet', '--no-checkout', root, clone], work);
    runCommand('git', ['checkout', '--quiet', '--detach', head], clone);

    progress('npm ci (slow)');
    runCommand('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], clone, 400_000);
    expect(realpathSync(path.join(clone, 'node_modules/.bin/memshed'))).toBe(
      path.join(realpathSync(clone), 'packages/cli/bin/memshed.js'),
    );
    // --no: npx must use the linked bin; it may not fetch anything.
    const unbuilt = spawnSync('npx', ['--no', '--', 'memshed', '--version'], {
      cwd: clone,
      encoding: 'utf8',
      env: outsideEnvironment(),
    });
    expect({ status: unbuilt.status, stderr: unbuilt.stderr }).toEqual({
      status: 1,
      stderr: expect.stringContaining('@memshed/cli is not built') as unknown as string,
    });

    progress('npm run build (slow)');
    runCommand('npm', ['run', 'build'], clone, 400_000);
    const version = (
      JSON.parse(readFileSync(path.join(clone, 'packages/cli/package.json'), 'utf8')) as { version: string }
    ).version;
    expect(runCommand('npx', ['--no', '--', 'memshed', '--version'], clone).trim()).toBe(version);
  }, 900_000);
});
