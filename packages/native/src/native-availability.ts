import { addonLoader, type NativeAvailability } from './native-addon';

/**
 * Whether the native addon loaded here, and if not why (not Linux, not built, fails to load) and
 * what to do. Loads the addon on first call; never throws.
 */
export function nativeAvailability(): NativeAvailability {
  return addonLoader.availability();
}
