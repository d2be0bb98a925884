/**
 * In-process stand-ins for the few Electron objects memshed touches, for tests of apps and plugins
 * that run without an Electron binary. Renderers answer over a fake IPC on the next turn of the
 * event loop, as a real renderer process answers asynchronously.
 */
import { EventEmitter } from 'node:events';
import type { ProcessMetric, ResourceUsage, SystemMemoryInfo } from 'electron';
import type { ElectronEnvironment, ElectronWebContents, ElectronWindow } from '../electron-environment';
import { exposeCacheRelief } from '../preload';

const KiB = 1024;

/** A session: counts `clearCache()` calls, or fails them with `failure`. */
export class FakeSession {
  clears = 0;
  failure: Error | undefined;
  async clearCache(): Promise<void> {
    if (this.failure) throw this.failure;
    this.clears++;
  }
}

/** `ipcMain`: an EventEmitter the fake renderers emit their replies on. */
export class FakeIpcMain extends EventEmitter {}

/** Blink's caches in one renderer: `clearCache()` drops them to `kept` bytes. */
export class FakeWebFrame {
  clears = 0;
  constructor(
    public bytes: number,
    private readonly kept = 0,
  ) {}
  clearCache(): void {
    this.clears++;
    this.bytes = this.kept;
  }
  getResourceUsage(): ResourceUsage {
    const part = (size: number) => ({ count: size > 0 ? 1 : 0, size, liveSize: size });
    return {
      images: part(Math.round(this.bytes * 0.75)),
      scripts: part(this.bytes - Math.round(this.bytes * 0.75)),
      cssStyleSheets: part(0),
      xslStyleSheets: part(0),
      fonts: part(0),
      other: part(0),
    };
  }
}

let nextId = 1;

/** A renderer: `send()` reaches its page when {@link withPreload} loaded the relief helper in it. */
export class FakeWebContents implements ElectronWebContents {
  readonly id = nextId++;
  destroyed = false;
  crashed = false;
  loading = false;
  reloads = 0;
  /** The renderer side, when a page with the preload helper is loaded. */
  renderer:
    | {
        ipcRenderer: EventEmitter & { send(channel: string, ...args: unknown[]): void };
        webFrame: FakeWebFrame;
      }
    | undefined;

  constructor(
    readonly session: FakeSession,
    private readonly ipcMain: FakeIpcMain,
    readonly pid: number,
  ) {}

  /** Loads a page whose preload runs exposeCacheRelief, with `bytes` in Blink's caches. */
  withPreload(bytes: number, kept = 0): this {
    const ipcRenderer = Object.assign(new EventEmitter(), {
      send: (channel: string, ...args: unknown[]) => {
        setImmediate(() => this.ipcMain.emit(channel, { sender: this }, ...args));
      },
    });
    this.renderer = { ipcRenderer, webFrame: new FakeWebFrame(bytes, kept) };
    exposeCacheRelief(this.renderer);
    return this;
  }

  send(channel: string, ...args: unknown[]): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    const renderer = this.renderer;
    if (renderer) setImmediate(() => renderer.ipcRenderer.emit(channel, {}, ...args));
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  isCrashed(): boolean {
    return this.crashed;
  }
  isLoading(): boolean {
    return this.loading;
  }
  getOSProcessId(): number {
    return this.pid;
  }
  reload(): void {
    this.reloads++;
  }
}

/** A BrowserWindow: visibility, minimized and focus are plain fields the test sets. */
export class FakeWindow implements ElectronWindow {
  closed = false;
  visible = true;
  minimized = false;
  focused = false;
  constructor(
    readonly id: number,
    readonly webContents: FakeWebContents,
    private readonly title: string,
  ) {}
  isDestroyed(): boolean {
    return this.closed;
  }
  isVisible(): boolean {
    return this.visible;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
  isFocused(): boolean {
    return this.focused;
  }
  getTitle(): string {
    return this.title;
  }
  close(): void {
    this.closed = true;
  }
}

/** A whole fake Electron main process: its sessions, renderers, windows, memory. */
export class FakeElectron {
  readonly ipcMain = new FakeIpcMain();
  readonly defaultSession = new FakeSession();
  readonly contents: FakeWebContents[] = [];
  readonly windows: FakeWindow[] = [];
  /** What process.getSystemMemoryInfo() says, in kilobytes. */
  memory: SystemMemoryInfo = { total: 8 * 1024 * 1024, free: 4 * 1024 * 1024 } as SystemMemoryInfo;
  /** Working sets by pid, in bytes. */
  readonly workingSets = new Map<number, number>([[1000, 120 * 1024 * 1024]]);

  /** A renderer in `session` (default: the default session). */
  renderer(pid: number, session: FakeSession = this.defaultSession): FakeWebContents {
    const contents = new FakeWebContents(session, this.ipcMain, pid);
    this.contents.push(contents);
    return contents;
  }

  /** A window showing a new renderer with `bytes` of working set. */
  window(title: string, pid: number, bytes: number): FakeWindow {
    const window = new FakeWindow(this.windows.length + 1, this.renderer(pid), title);
    this.windows.push(window);
    this.workingSets.set(pid, bytes);
    return window;
  }

  environment(extra: Partial<ElectronEnvironment> = {}): ElectronEnvironment {
    return {
      app: {
        getAppMetrics: () =>
          [...this.workingSets].map(
            ([pid, bytes]) =>
              ({ pid, type: 'Tab', memory: { workingSetSize: bytes / KiB } }) as ProcessMetric,
          ),
      },
      process: { getSystemMemoryInfo: () => this.memory },
      session: { defaultSession: this.defaultSession },
      webContents: { getAllWebContents: () => this.contents.filter((c) => !c.destroyed) },
      BrowserWindow: { getAllWindows: () => this.windows.filter((w) => !w.closed) },
      ipcMain: this.ipcMain,
      ...extra,
    };
  }
}

/** Lets the fake IPC deliver (it answers on the next turns of the event loop). */
export function ipcTurns(turns = 3): Promise<void> {
  return turns <= 0
    ? Promise.resolve()
    : new Promise((resolve) => setImmediate(resolve)).then(() => ipcTurns(turns - 1));
}
