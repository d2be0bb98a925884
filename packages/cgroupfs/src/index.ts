export { parseCgroupMounts, readCgroupMounts } from './mountinfo';
export type { CgroupMount } from './mountinfo';
export {
  cgroup2MountPoint,
  cgroupV2At,
  ownCgroupV2,
  ownMemoryCgroupV1,
  parseProcCgroup,
} from './proc-cgroup';
export type { LocatedCgroup, ProcCgroupEntry } from './proc-cgroup';
export { Capability, hasCapability } from './capabilities';
export { availableFraction, parseMeminfo } from './meminfo';
export type { Meminfo } from './meminfo';
