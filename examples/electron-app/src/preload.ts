/** The renderer's preload: answers memshed's relief requests and shows the pressure state. */
import { contextBridge, ipcRenderer, webFrame } from 'electron';
import { exposeCacheRelief } from '@memshed/electron/preload';

// #region preload
// The page's window (typed without the DOM library, so this file also checks as Node code).
const page = globalThis as unknown as EventTarget;
exposeCacheRelief(
  { ipcRenderer, webFrame },
  // Let the page drop its own caches too: it listens for this event.
  { onRelief: (level) => page.dispatchEvent(new CustomEvent('memshed:relief', { detail: level })) },
);
// #endregion preload

contextBridge.exposeInMainWorld('memshed', {
  onState: (listener: (state: string) => void) =>
    ipcRenderer.on('memshed:state', (_event, state: string) => listener(state)),
});
