import { MemshedError } from '@memshed/core';
import { Container, injectable } from '@memshed/core/inversify';
import { PriorityRegistry, registryOf, type PriorityItem } from './priority-registry';
import type { ShedPriority } from './shed-priority';

function registry(): PriorityRegistry<PriorityItem> {
  return new PriorityRegistry({
    noun: 'cache',
    registerFix: "register it as registry.register('sessions', cache)",
  });
}

/** A registry holding the items `[name, priority]`, registered in this order. */
function holding(...items: (readonly [string, ShedPriority])[]): PriorityRegistry<PriorityItem> {
  const filled = registry();
  for (const [name, priority] of items) filled.add(name, priority, () => ({ name, priority }));
  return filled;
}

describe(PriorityRegistry, () => {
  describe('.add', () => {
    it('stores what create builds from the checked priority, normal by default', () => {
      const items = registry();
      items.add('a', undefined, (priority) => ({ name: 'a', priority }));
      items.add('b', 'low', (priority) => ({ name: 'b', priority }));
      expect(items.get('a')).toEqual({ name: 'a', priority: 'normal' });
      expect(items.get('b')).toEqual({ name: 'b', priority: 'low' });
    });

    it('refuses an empty name, a taken name and an unknown priority, naming the item', () => {
      const items = registry();
      items.add('a', 'low', (priority) => ({ name: 'a', priority }));
      const create = jest.fn();
      expect(() => items.add('', 'low', create)).toThrow(MemshedError);
      expect(() => items.add('', 'low', create)).toThrow('A cache needs a non-empty name');
      expect(() => items.add('a', 'low', create)).toThrow("A cache named 'a' is already registered");
      expect(() => items.add('b', 'urgent', create)).toThrow(
        /Cache 'b': unknown priority 'urgent'.*background, low, normal, high/,
      );
      expect(create).not.toHaveBeenCalled();
    });

    it('stores nothing when create throws', () => {
      const items = registry();
      expect(() =>
        items.add('a', 'low', () => {
          throw new Error('no');
        }),
      ).toThrow('no');
      expect(items.has('a')).toBe(false);
    });
  });

  describe('.list', () => {
    it('lists lowest priority first, then in registration order', () => {
      const items = holding(['n1', 'normal'], ['h', 'high'], ['b', 'background'], ['n2', 'normal']);
      expect(items.list().map((item) => item.name)).toEqual(['b', 'n1', 'n2', 'h']);
    });
  });

  describe('.listBelow', () => {
    it('lists the items below a priority, or at it with inclusive, in shedding order', () => {
      const items = holding(['n', 'normal'], ['l', 'low'], ['b', 'background'], ['h', 'high']);
      expect(items.listBelow('normal').map((item) => item.name)).toEqual(['b', 'l']);
      expect(items.listBelow('normal', { inclusive: true }).map((item) => item.name)).toEqual([
        'b',
        'l',
        'n',
      ]);
      expect(items.listBelow('background')).toEqual([]);
      expect(() => items.listBelow('urgent' as never)).toThrow("Unknown priority 'urgent'");
    });
  });

  describe('registration.dispose', () => {
    it('undoes only its own registration, once', () => {
      const items = registry();
      const first = items.add('a', 'low', (priority) => ({ name: 'a', priority }));
      first.dispose();
      items.add('a', 'high', (priority) => ({ name: 'a', priority }));
      first.dispose();
      expect(items.get('a')?.priority).toBe('high');
      expect(items.delete('a')).toBe(true);
      expect(items.delete('a')).toBe(false);
    });
  });
});

describe(registryOf, () => {
  @injectable()
  class ThingRegistry {}
  const lookup = {
    registry: ThingRegistry,
    noun: 'thing',
    moduleId: 'thing-shed',
    moduleExport: 'thingShedModule',
  };

  it('gets the registry bound in a container, or in a memshed', () => {
    const container = new Container();
    container.bind(ThingRegistry).toSelf().inSingletonScope();
    const registry = registryOf(container, lookup);
    expect(registry).toBeInstanceOf(ThingRegistry);
    expect(registryOf({ container }, lookup)).toBe(registry);
  });

  it('names the module to load when it is not bound', () => {
    expect(() => registryOf(new Container(), lookup)).toThrow(
      expect.objectContaining({
        kind: 'unavailable',
        message: expect.stringContaining('No thing registry: the thing-shed module is not loaded'),
        fix: 'pass the thing-shed module to createMemshed({ modules: [thingShedModule] })',
      }),
    );
  });
});
