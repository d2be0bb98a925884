import { loadPlugins } from '@memshed/core';
import {
  BUILTIN_PLUGIN_PACKAGES,
  builtinModules,
  isContainerModule,
  requirePluginModule,
} from './builtin-plugins';
import { ExitCode } from './exit-codes';
import { main } from './main';
import { bufferIo } from './testing-io';

describe('memshed (cli)', () => {
  it('prints help with exit code 0', async () => {
    const io = bufferIo();
    expect(await main(['--help'], io)).toBe(ExitCode.Ok);
    expect(io.out()).toContain('Usage: memshed');
    expect(io.out()).toContain('doctor');
    expect(io.out()).toContain('watch');
  });

  it('exits 2 on an unknown option or command', async () => {
    const io = bufferIo();
    expect(await main(['watch', '--bogus'], io)).toBe(ExitCode.Usage);
    expect(io.err()).toContain("unknown option '--bogus'");
    expect(await main(['frobnicate'], bufferIo())).toBe(ExitCode.Usage);
  });

  it('has --help on every command', async () => {
    for (const command of ['doctor', 'watch', 'plugins']) {
      const io = bufferIo();
      expect(await main([command, '--help'], io)).toBe(ExitCode.Ok);
      expect(io.out()).toContain(`Usage: memshed ${command}`);
    }
  });

  describe('doctor', () => {
    it('reports every installed source as JSON, each available or with a reason and a fix', async () => {
      const io = bufferIo();
      expect(await main(['doctor', '--json'], io)).toBe(ExitCode.Ok);
      const report = JSON.parse(io.out()) as {
        sources: { id: string; available: boolean; reason?: string; hint?: string }[];
        defaultSource: string | null;
      };
      for (const source of report.sources) {
        if (!source.available) {
          expect(source.reason).toEqual(expect.any(String));
          expect(source.hint).toEqual(expect.any(String));
        }
      }
      const available = report.sources.filter((s) => s.available).map((s) => s.id);
      if (report.defaultSource !== null) expect(available).toContain(report.defaultSource);
    });

    it('prints a human report', async () => {
      const io = bufferIo();
      expect(await main(['doctor'], io)).toBe(ExitCode.Ok);
      expect(io.out()).toMatch(/memshed doctor: \d+ sources? installed|No source plugins are installed/);
    });
  });

  describe('watch', () => {
    it('exits 2 for an unknown source, naming the known ones', async () => {
      const io = bufferIo();
      expect(await main(['watch', '--source', 'nope', '--for', '1ms'], io)).toBe(ExitCode.Usage);
      expect(io.err()).toContain("sources[0].use: unknown source 'nope'");
    });

    it('exits 2 for a bad duration', async () => {
      const io = bufferIo();
      expect(await main(['watch', '--for', 'soon'], io)).toBe(ExitCode.Usage);
      expect(io.err()).toContain("Invalid duration 'soon'");
    });

    it('refuses --cgroup for a source without one, naming exactly the sources that take it', async () => {
      const io = bufferIo();
      expect(await main(['watch', '--source', 'v8', '--cgroup', '/x', '--for', '1ms'], io)).toBe(
        ExitCode.Usage,
      );
      expect(io.err()).toContain(
        "--cgroup does not apply to source 'v8'. Fix: drop --cgroup, or watch a source that takes a cgroup (cgroup-v1, psi, vmstat, system)",
      );
    });

    it("points system's container part at the --cgroup it is given, and fails when it is not there", async () => {
      const io = bufferIo();
      expect(
        await main(['watch', '--source', 'system', '--cgroup', '/memshed-none', '--for', '1ms'], io),
      ).toBe(ExitCode.Failure);
      // Not the host's memory in its place: that would look like success while watching something else.
      expect(io.err()).toContain('cgroup /memshed-none not found');
      expect(io.err()).toContain('fix the `container.cgroup` option');
    });
  });

  describe('plugins', () => {
    it('lists plugins as JSON', async () => {
      const io = bufferIo();
      expect(await main(['plugins', '--json'], io)).toBe(ExitCode.Ok);
      const { plugins } = JSON.parse(io.out()) as { plugins: { kind: string; id: string }[] };
      for (const plugin of plugins) expect(['source', 'action']).toContain(plugin.kind);
    });
  });
});

describe('builtin plugins', () => {
  it.each(BUILTIN_PLUGIN_PACKAGES)(
    '%s, when implemented, binds a factory whose id is its folder id',
    (name) => {
      const exported = jest.requireActual<object>(name);
      if (Object.keys(exported).length === 0) return; // not implemented yet in this repository
      const module = requirePluginModule(name);
      expect(isContainerModule(module)).toBe(true);
      const loaded = loadPlugins([module]);
      const ids = [...loaded.sources, ...loaded.actions].map((factory) => factory.id);
      expect(ids).toContain(name.replace(/^@memshed\/((source|action)-)?/, ''));
    },
  );

  it('loads every implemented built-in together', () => {
    expect(builtinModules().every(isContainerModule)).toBe(true);
  });

  it('names a missing plugin module and how to install it', () => {
    expect(() => requirePluginModule('@memshed/not-a-plugin')).toThrow(
      "Plugin module '@memshed/not-a-plugin' cannot be found",
    );
  });
});
