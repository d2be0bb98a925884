/** The Kubernetes example's service, for its tests (the manifests run `node dist/main.js`). */
export { DEFAULT_CONFIG_FILE, DEFAULT_PORT, startServer } from './server';
export type { RunningServer, ServerOptions } from './server';
