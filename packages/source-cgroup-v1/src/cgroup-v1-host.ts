import {
  nativeAvailability,
  watchEventfd,
  type NativeAvailability,
  type NativeWatcher,
} from '@memshed/native';

/**
 * What the source needs from the machine: the native eventfd watcher and where /proc and the
 * cgroup mounts are. Tests pass fakes and a fixture tree; the default is the real thing.
 */
export interface CgroupV1Host {
  /** Where /proc/self/cgroup, /proc/self/mountinfo and the mounts it names are: `/`, or a fixture tree. */
  readonly root: string;
  /** The platform (the source is Linux-only). */
  readonly platform: NodeJS.Platform;
  /** `@memshed/native`'s watchEventfd. */
  watchEventfd(callback: (count: number) => void): NativeWatcher;
  /** `@memshed/native`'s nativeAvailability. */
  nativeAvailability(): NativeAvailability;
}

/** The real machine. */
export const defaultCgroupV1Host: CgroupV1Host = Object.freeze({
  root: '/',
  platform: process.platform,
  watchEventfd,
  nativeAvailability,
});
