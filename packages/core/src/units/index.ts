// One grammar for sizes and durations, used by every option, config key, scenario and CLI flag.
export * from './duration';
export * from './size';
