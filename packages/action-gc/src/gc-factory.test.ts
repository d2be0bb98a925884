import { loadPlugins, silentLogger, validateOptions } from '@memshed/core';
import { ContainerModule } from '@memshed/core/inversify';
import { GcEnvironment } from './gc-action';
import { GcFactory } from './gc-factory';
import { gcModule } from './index';

describe(GcFactory, () => {
  describe('.create', () => {
    it('gives its actions the GcEnvironment bound in the container, when there is one', async () => {
      const collected: string[] = [];
      const environment: GcEnvironment = {
        obtainGc: () => ({ available: true, gc: () => collected.push('gc'), via: 'global' }),
        mallocTrim: () => ({ available: false, released: false, reason: 'none here' }),
        sample: () => ({ rss: 10, heapUsed: 5, heapTotal: 8, external: 0, arrayBuffers: 0 }),
        sweeping: () => ({ available: false, reason: 'none here' }),
      };
      const bound = new ContainerModule(({ bind }) => {
        bind<GcEnvironment>(GcEnvironment).toConstantValue(environment);
      });
      const factory = loadPlugins([gcModule, bound]).actions.find((f) => f.id === 'gc')!;
      const options = validateOptions(factory.optionsSchema, { cgroup: 'none' });
      if (!options.ok) throw new Error('invalid options');
      const result = await factory.create(options.value).run({
        level: 'critical',
        trigger: undefined,
        dryRun: false,
        signal: new AbortController().signal,
        logger: silentLogger,
      });
      expect(collected.length).toBeGreaterThan(0);
      expect(result).toMatchObject({ freedBytes: 0, details: { mallocTrim: { reason: 'none here' } } });
    });
  });
});
