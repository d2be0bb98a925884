// Shared by the main process and the preload helper: no imports, so that a preload bundle stays tiny.

/** Main -> renderer: drop your caches. Payload: {@link ReliefRequest}. */
export const RELIEF_CHANNEL = 'memshed:relief';

/** Renderer -> main: done. Payload: {@link ReliefReply}. */
export const RELIEF_REPLY_CHANNEL = 'memshed:relief-done';

/** What the main process asks a renderer. */
export interface ReliefRequest {
  /** Matches the reply to the request. */
  readonly id: number;
  /** The pressure state behind the request (`low`, `medium`, `critical`). */
  readonly level: string;
}

/** What a renderer answers: Blink's resource cache sizes before and after `webFrame.clearCache()`. */
export interface ReliefReply {
  /** The request's id. */
  readonly id: number;
  /** Bytes in Blink's resource caches (images, scripts, style sheets, fonts, other) before. */
  readonly before: number;
  /** Bytes after. */
  readonly after: number;
}

/** Listener arguments, typed `any[]` as Electron types them, so that Electron's objects fit. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type IpcArguments = any[];
