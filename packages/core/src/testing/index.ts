export { FakeSource } from './fake-source';
export { ManualScheduler } from './manual-scheduler';
export { createTestScheduler } from './test-scheduler';
export { createActionContext } from './action-context';
export { firstIssuePath, validOptions } from './plugin-options';
export { collectEvents } from './collect-events';
export { startWithSource } from './start-with-source';
export type { StartedSource } from './start-with-source';
