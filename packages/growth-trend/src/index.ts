/**
 * @memshed/growth-trend: time-to-limit as a pressure signal. How fast a headroom's usage grows
 * (robust to a one-off jump, quick on the onset of fast growth) and when, at that rate, it reaches
 * its limit, mapped onto the pressure levels. Used by the system and v8 sources.
 */
export { GrowthTrend } from './growth-trend';
export type { GrowthTrendOptions } from './growth-trend';
export {
  TimeToLimit,
  describeTimeToLimit,
  headroomReading,
  higherLevel,
  levelWithPrediction,
  timeToLimitOption,
  timeToLimitSchema,
} from './time-to-limit';
export type {
  HeadroomSample,
  TimeToLimitOptions,
  TimeToLimitOptionsInput,
  TimeToLimitReading,
} from './time-to-limit';
