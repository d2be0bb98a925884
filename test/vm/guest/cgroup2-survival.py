#!/usr/bin/env python3
"""Runs inside the cgroup v2 VM (test/vm/vm.ts) as root: the same growing Node service
(test/vm/guest/grow-service.js) in two 128M v2 groups at once, one protected by memshed's default
policy and one not, and what the kernel says of each group afterwards.

    cgroup2-survival.py NODE STEP_KIB EVERY_MS TOTAL_MIB

Prints JSON lines: each service's own lines with "service" added (memshed or none), then one
{"type":"exit"} per service (its exit status: negative is the signal that killed it) and one
{"type":"reference"} per group: memory.events (oom_kill), memory.peak and memory.max, read here.
"""
import json
import os
import subprocess
import sys
import threading

from guest_files import emit, keyed, read, write

NODE, STEP_KIB, EVERY_MS, TOTAL_MIB = sys.argv[1:5]
HERE = os.path.dirname(os.path.abspath(__file__))
MOUNT = '/sys/fs/cgroup'
PARENT = MOUNT + '/memshed-vm-survival'
LIMIT = 128 << 20






def serve(guard):
    group = PARENT + '/' + guard
    os.makedirs(group, exist_ok=True)
    write(group + '/memory.max', str(LIMIT))
    child = subprocess.Popen(
        ['sh', '-c', 'echo $$ > %s/cgroup.procs; exec "$@"' % group, 'sh',
         NODE, os.path.join(HERE, 'grow-service.js'), guard, STEP_KIB, EVERY_MS, TOTAL_MIB],
        stdout=subprocess.PIPE, text=True)
    for line in child.stdout:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        record['service'] = guard
        emit(record)
    try:
        status = child.wait(150)
    except subprocess.TimeoutExpired:
        child.kill()
        status = child.wait()
    emit({'type': 'exit', 'service': guard, 'status': status})
    emit({'type': 'reference', 'service': guard, 'events': keyed(group + '/memory.events'),
          'peak': int(read(group + '/memory.peak')), 'max': int(read(group + '/memory.max'))})


def main():
    write(MOUNT + '/cgroup.subtree_control', '+memory')
    os.makedirs(PARENT, exist_ok=True)
    write(PARENT + '/cgroup.subtree_control', '+memory')
    threads = [threading.Thread(target=serve, args=(guard,)) for guard in ('memshed', 'none')]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


if __name__ == '__main__':
    main()
