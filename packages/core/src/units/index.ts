// One grammar for sizes and durations, used by every option, config key, scenario and CLI flag.
export {
  DURATION_OR_NEVER_PATTERN,
  DURATION_PATTERN,
  formatDuration,
  parseDuration,
  parseDurationOrNever,
} from './duration';
export {
  SIZE_OR_PERCENT_PATTERN,
  SIZE_PATTERN,
  formatBytes,
  parseBytes,
  parseBytesOrPercent,
  parseRate,
} from './size';
export type { BytesOrPercent } from './size';
