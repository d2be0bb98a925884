import { ItemService } from './item-service';

describe(ItemService, () => {
  describe('.get', () => {
    it('renders a new item with the size the request asks for, and serves it from the cache after', () => {
      const items = new ItemService({ payloadBytes: 1024 });
      expect(items.get('a').payload.length).toBe(1024);
      expect(items.get('b', 640 * 1024).payload.length).toBe(640 * 1024);
      // A cached item keeps its size whatever a later request asks for.
      expect(items.get('b', 10).payload.length).toBe(640 * 1024);
      expect(items.computed).toBe(2);
    });

    it('weighs a string payload what the Buffer does (one byte per character)', () => {
      const items = new ItemService({ payload: 'string' });
      const payload = items.get('x', 2560).payload;
      expect(typeof payload).toBe('string');
      expect(payload.length).toBe(2560);
    });
  });

  describe('.prefill', () => {
    it('caches at least the bytes asked for, in 64 KiB items the load never asks for', () => {
      const items = new ItemService({ payloadBytes: 2560, max: 1000 });
      expect(items.prefill(1024 * 1024 + 1)).toBe(17);
      const sizes = [...items.cache.values()].map((item) => item.payload.length);
      expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(17 * 64 * 1024);
      expect([...items.cache.keys()].every((id) => id.startsWith('prefill-'))).toBe(true);
    });
  });
});
