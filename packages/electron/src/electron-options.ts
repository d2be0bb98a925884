import { bytesOption, durationOption, orFalse } from '@memshed/options';
import { thresholdOption } from '@memshed/source-system';

/** A duration: milliseconds, or text such as `500ms`, `1s`, `2m` (memshed's duration option). */
export const durationSchema = durationOption;

/**
 * A threshold, as the `system` source writes them: `'75%'` (of the limit), `'25% free'`, `'1.5GiB'`
 * (used), `'512MiB free'`, or a number of bytes.
 */
export const thresholdSchema = thresholdOption;

/** A size: `2GiB`, `512M`, or a number of bytes (memshed's size option), above 0. */
export const sizeSchema = bytesOption.refine((bytes) => bytes > 0, { message: 'must be more than 0 bytes' });

/**
 * `false`, or options of `schema` (`{}` gives its defaults): memshed's shared helper, re-exported
 * for the electron plugins' schemas.
 */
export { orFalse };
