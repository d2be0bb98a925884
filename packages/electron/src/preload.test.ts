import { EventEmitter } from 'node:events';
import { RELIEF_CHANNEL, RELIEF_REPLY_CHANNEL, cacheBytes, exposeCacheRelief } from './preload';
import { FakeWebFrame } from './testing';

function renderer(bytes: number, kept = 0) {
  const sent: unknown[][] = [];
  const ipcRenderer = Object.assign(new EventEmitter(), {
    send: (channel: string, ...args: unknown[]) => sent.push([channel, ...args]),
  });
  return { ipcRenderer, webFrame: new FakeWebFrame(bytes, kept), sent };
}

describe(exposeCacheRelief, () => {
  it("runs the page's hook, clears Blink's caches and reports their size before and after", () => {
    const page = renderer(30_000, 2_000);
    const levels: string[] = [];
    exposeCacheRelief(page, { onRelief: (level) => levels.push(level) });
    page.ipcRenderer.emit(RELIEF_CHANNEL, {}, { id: 7, level: 'critical' });
    expect(levels).toEqual(['critical']);
    expect(page.webFrame.clears).toBe(1);
    expect(page.sent).toEqual([[RELIEF_REPLY_CHANNEL, { id: 7, before: 30_000, after: 2_000 }]]);
  });

  it('clears even when the hook throws, ignores malformed requests, and stops when disposed', () => {
    const page = renderer(1000);
    const dispose = exposeCacheRelief(page, {
      onRelief: () => {
        throw new Error('page bug');
      },
    });
    page.ipcRenderer.emit(RELIEF_CHANNEL, {}, { id: 'nope' });
    page.ipcRenderer.emit(RELIEF_CHANNEL, {}, undefined);
    expect(page.sent).toEqual([]);
    page.ipcRenderer.emit(RELIEF_CHANNEL, {}, { id: 1, level: 'low' });
    expect(page.sent).toEqual([[RELIEF_REPLY_CHANNEL, { id: 1, before: 1000, after: 0 }]]);
    dispose();
    page.ipcRenderer.emit(RELIEF_CHANNEL, {}, { id: 2, level: 'low' });
    expect(page.sent).toHaveLength(1);
    expect(page.ipcRenderer.listenerCount(RELIEF_CHANNEL)).toBe(0);
  });
});

describe(cacheBytes, () => {
  it('sums the size of every resource cache', () => {
    expect(cacheBytes(new FakeWebFrame(4096).getResourceUsage())).toBe(4096);
  });
});
