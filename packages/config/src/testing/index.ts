export {
  FIXTURE_PLUGINS_DIR,
  MALFORMED_CONFIGS,
  VALID_CONFIGS,
  createCorpusDir,
  expectedLine,
} from './config-corpus';
export type { CorpusCase } from './config-corpus';
