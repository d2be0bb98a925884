import { runBuiltNode } from './support/run-built-node';

// These run the built packages (npm test builds first) in a child process, because "nothing keeps
// the process alive" can only be observed from outside.
describe('memshed process lifecycle', () => {
  it('never keeps the process alive by itself, even with a long recovery timer pending', () => {
    const result = runBuiltNode(`
      const { createMemshed } = require('@memshed/core');
      const { FakeSource } = require('@memshed/core/testing');
      (async () => {
        const fake = new FakeSource();
        const memshed = await createMemshed({ sources: [fake], recovery: { quiet: 60000 } });
        memshed.level$.subscribe((state) => console.log(state));
        fake.signal('critical', '/app');
      })();
    `);
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n').filter(Boolean)).toEqual(['normal', 'critical']);
    expect(result.status).toBe(0);
    // A ref'd 60 s timer would have held it for a minute (and the spawn timeout would have killed it).
    expect(result.ms).toBeLessThan(15_000);
  });

  it('releases every handle on stop()', () => {
    const result = runBuiltNode(`
      const { createMemshed } = require('@memshed/core');
      const { FakeSource } = require('@memshed/core/testing');
      const handles = () => process._getActiveHandles().length;
      (async () => {
        const before = handles();
        const fake = new FakeSource();
        const memshed = await createMemshed({ sources: [fake], recovery: { quiet: 1000 } });
        memshed.level$.subscribe();
        fake.signal('medium');
        await new Promise((resolve) => setImmediate(resolve));
        await memshed.stop();
        console.log(JSON.stringify({ before, after: handles(), running: fake.running }));
      })();
    `);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({
      before: expect.any(Number),
      after: expect.any(Number),
      running: false,
    });
    const { before, after } = JSON.parse(result.stdout) as { before: number; after: number };
    expect(after).toBeLessThanOrEqual(before);
  });
});
