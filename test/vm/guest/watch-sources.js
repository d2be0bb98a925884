#!/usr/bin/env node
/**
 * Runs inside the cgroup v2 VM (test/vm/vm.ts), as root, from the built packages (dist/):
 *
 *   node watch-sources.js PRESSURE_GROUP OOM_GROUP SYSTEMD_TRIGGER
 *
 * Groups are paths below the cgroup2 mount, e.g. /memshed-vm/pressure. Watches with four memshed
 * instances, one per question the test asks:
 * - `group`: psi on PRESSURE_GROUP's memory.pressure, vmstat on its memory.stat, system on its
 *   memory.current/max/high and memory.events;
 * - `systemd`: psi as systemd sets up a service: $MEMORY_PRESSURE_WATCH names PRESSURE_GROUP's
 *   memory.pressure and $MEMORY_PRESSURE_WRITE carries SYSTEMD_TRIGGER (kernel text, e.g.
 *   `some 100000 2000000` for MemoryPressureThresholdSec=100ms), base64;
 * - `oom`: system and vmstat on OOM_GROUP, which sees an OOM kill.
 * Prints JSON lines: {"type":"ready",...} once every source runs, {"type":"event",...} per event,
 * {"type":"error",...} per source error; stops and exits when stdin closes.
 */
'use strict';
const { createMemshed } = require('@memshed/core');
const { PsiSource, psiSourceOptionsSchema } = require('@memshed/source-psi');
const { VmstatSource, vmstatSourceOptionsSchema } = require('@memshed/source-vmstat');
const { SystemSource, systemSourceOptionsSchema } = require('@memshed/source-system');

const [pressureGroup, oomGroup, systemdTrigger] = process.argv.slice(2);
if (!pressureGroup || !oomGroup || !systemdTrigger)
  throw new Error('usage: watch-sources.js PRESSURE_GROUP OOM_GROUP SYSTEMD_TRIGGER');

const print = (record) => process.stdout.write(`${JSON.stringify({ ...record, at: Date.now() })}\n`);

async function main() {
  const systemdEnv = {
    MEMORY_PRESSURE_WATCH: `/sys/fs/cgroup${pressureGroup}/memory.pressure`,
    MEMORY_PRESSURE_WRITE: Buffer.from(systemdTrigger).toString('base64'),
  };
  const plans = {
    group: [
      new PsiSource(psiSourceOptionsSchema.parse({ cgroup: pressureGroup, systemd: false })),
      new VmstatSource(vmstatSourceOptionsSchema.parse({ cgroup: pressureGroup })),
      new SystemSource(
        systemSourceOptionsSchema.parse({ host: false, container: { cgroup: pressureGroup } }),
      ),
    ],
    systemd: [new PsiSource(psiSourceOptionsSchema.parse({}), systemdEnv)],
    oom: [
      new VmstatSource(vmstatSourceOptionsSchema.parse({ cgroup: oomGroup })),
      new SystemSource(systemSourceOptionsSchema.parse({ host: false, container: { cgroup: oomGroup } })),
    ],
  };
  const running = [];
  for (const [name, sources] of Object.entries(plans)) {
    const memshed = await createMemshed({ sources });
    running.push(memshed);
    memshed.events$.subscribe((event) => print({ type: 'event', memshed: name, ...event }));
    memshed.errors$.subscribe((error) => print({ type: 'error', memshed: name, message: error.message }));
    for (const status of memshed.sources)
      print({
        type: 'source',
        memshed: name,
        id: status.id,
        state: status.state,
        detail: status.availability.available ? status.availability.detail : status.availability.reason,
        error: status.error?.message,
      });
  }
  print({ type: 'ready', psiModes: plans.group[0].mode, systemdMode: plans.systemd[0].mode });
  process.stdin.resume();
  process.stdin.on('end', async () => {
    await Promise.all(running.map((memshed) => memshed.stop()));
    print({ type: 'stopped' });
    process.exit(0);
  });
}

main().catch((error) => {
  print({ type: 'fatal', message: String(error?.stack ?? error) });
  process.exit(1);
});
