/**
 * @memshed/cgroupfs: memshed's one layer over Linux cgroups and /proc. Where this process's cgroups
 * and their mounts are, the memory files of a v1 or v2 group (usage, limits, stat, events,
 * oom_control), and cgroup v1 `cgroup.event_control` registrations. Every reader takes a root
 * path (`/` on a real machine, a fixture tree in tests). Depends on nothing of memshed: errors are
 * {@link CgroupfsError}s with a `code` that callers turn into their own.
 */
export { parseCgroupMounts, readCgroupMounts } from './mountinfo';
export type { CgroupMount } from './mountinfo';
export { locateCgroup, parseProcCgroup, tryLocateCgroup } from './proc-cgroup';
export type { CgroupVersion, LocateCgroupOptions, LocatedCgroup, ProcCgroupEntry } from './proc-cgroup';
export { CgroupV1Memory, CgroupV2Memory, openCgroupMemory, openCgroupMemoryAt } from './cgroup-memory';
export type { CgroupMemory, CgroupMemorySample } from './cgroup-memory';
export { UNLIMITED, parseKeyedFile, parseLimit, parseMemoryEvents, parseOomControl } from './memory-files';
export type { MemoryEvents, OomControl } from './memory-files';
export { eventArgument, eventFile, registerCgroupEvent } from './event-control';
export type { CgroupEvent, Eventfd } from './event-control';
export { CgroupfsError, errnoKind, errorCode } from './cgroupfs-error';
export type { CgroupfsErrorCode } from './cgroupfs-error';
export { Capability, hasCapability } from './capabilities';
export { diagnoseWriteAccess, mountOf, parseMounts } from './write-access';
export type { MountEntry, WriteDenial } from './write-access';
export { availableFraction, parseMeminfo } from './meminfo';
export type { Meminfo } from './meminfo';
