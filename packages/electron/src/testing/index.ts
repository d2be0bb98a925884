export {
  FakeElectron,
  FakeIpcMain,
  FakeSession,
  FakeWebContents,
  FakeWebFrame,
  FakeWindow,
  ipcTurns,
} from './fake-electron';
