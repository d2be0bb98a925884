#!/usr/bin/env python3
"""Runs inside the cgroup v2 VM (test/vm/vm.ts) as root: memshed's sources and `doctor` on real v2
groups under real pressure, and a reference that reads the same kernel files.

    cgroup2-sources.py NODE STREAM_FILE

NODE is the Node binary to run memshed with; STREAM_FILE a file larger than the groups' limits,
outside the guest's /tmp, streamed through a group's page cache. Prints JSON lines on stdout:
the watcher's own lines (test/vm/guest/watch-sources.js: type source, ready, event, error) and this
script's: type phase (start and end of each workload), reference (what the kernel files said), doctor.
The reference is plain file I/O and a PSI trigger armed by hand, the way the kernel documents it
(Documentation/accounting/psi.rst), so that it shares no code with memshed.
"""
import json
import os
import select
import subprocess
import sys
import threading
import time

from guest_files import emit, keyed, out_lock, read, write

NODE, STREAM = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
CLI = os.path.join(REPO, 'packages', 'cli', 'dist', 'bin.js')
MOUNT = '/sys/fs/cgroup'
PARENT = '/memshed-vm'
MiB = 1 << 20
# What systemd writes to $MEMORY_PRESSURE_WRITE for MemoryPressureThresholdSec=100ms (its default,
# 200ms, needs more stall than emulation reliably gives in a few seconds).
SYSTEMD_TRIGGER = 'some 100000 2000000'
# memshed's default `low` trigger (SYSTEMD_TRIGGER is also its default `medium` one).
LOW_TRIGGER = 'some 70000 2000000'
# memshed's default `critical` trigger.
CRITICAL_TRIGGER = 'full 100000 2000000'



def path(group, name=''):
    return MOUNT + group + ('/' + name if name else '')





def psi_totals(file):
    totals = {}
    for line in read(file).splitlines():
        kind, *fields = line.split()
        totals[kind] = int(dict(field.split('=') for field in fields)['total'])
    return totals


def make_group(name, max_bytes, high_bytes=None):
    group = PARENT + '/' + name
    os.makedirs(path(group), exist_ok=True)
    write(path(group, 'memory.max'), str(max_bytes))
    if high_bytes is not None:
        write(path(group, 'memory.high'), str(high_bytes))
    return group


def snapshot(group):
    stat = keyed(path(group, 'memory.stat'))
    return {
        'events': keyed(path(group, 'memory.events')),
        'pgscan': stat.get('pgscan'),
        'pgsteal': stat.get('pgsteal'),
        'psi': psi_totals(path(group, 'memory.pressure')),
        'current': int(read(path(group, 'memory.current'))),
    }


def anon(mib, seconds):
    """A Python program holding `mib` MiB of written anonymous memory for `seconds`."""
    return ('%s -c "a=bytearray(%d)\nimport time\nfor i in range(0,len(a),4096): a[i]=1\ntime.sleep(%d)"'
            % (sys.executable, mib * MiB, seconds))


def run_in(group, script, timeout):
    """Runs `script` with sh inside `group`; returns its exit status (negative: killed by that signal)."""
    child = subprocess.Popen(['sh', '-c', 'echo $$ > %s; exec sh -c "$0"' % path(group, 'cgroup.procs'), script])
    try:
        return child.wait(timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        return child.wait()


def arm_reference_trigger(group, text):
    """A PSI trigger on the group's memory.pressure; returns the file descriptor to poll for POLLPRI."""
    fd = os.open(path(group, 'memory.pressure'), os.O_RDWR | os.O_NONBLOCK)
    os.write(fd, text.encode() + b'\0')
    return fd


def doctor(name, wrap):
    """Runs `memshed doctor --json` through `wrap`: a shell command where {node} and {cli} stand for
    the Node binary and the CLI's built entry."""
    command = wrap.format(node=NODE, cli=CLI)
    started = time.time()
    done = subprocess.run(['sh', '-c', command], capture_output=True, text=True, timeout=150)
    try:
        report = json.loads(done.stdout)
    except ValueError:
        report = None
    emit({'type': 'doctor', 'name': name, 'status': done.returncode, 'report': report,
          'stdout': done.stdout if report is None else None, 'stderr': done.stderr[-2000:],
          'ms': int((time.time() - started) * 1000)})


def main():
    write(path('', 'cgroup.subtree_control'), '+memory')
    os.makedirs(path(PARENT), exist_ok=True)
    write(path(PARENT, 'cgroup.subtree_control'), '+memory')
    pressure = make_group('pressure', 64 * MiB, 60 * MiB)
    oom = make_group('oom', 48 * MiB)
    svc = make_group('svc', 256 * MiB)

    watcher = subprocess.Popen([NODE, os.path.join(HERE, 'watch-sources.js'), pressure, oom, SYSTEMD_TRIGGER],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    ready = threading.Event()

    def forward():
        for line in watcher.stdout:
            with out_lock:
                sys.stdout.write(line)
                sys.stdout.flush()
            if '"type": "ready"' in line or '"type":"ready"' in line:
                ready.set()
        ready.set()

    threading.Thread(target=forward, daemon=True).start()
    if not ready.wait(180) or watcher.poll() is not None:
        emit({'type': 'fatal', 'message': 'the watcher did not get ready'})
        sys.exit(1)

    # Pressure: ~44M anonymous held in a 64M group (memory.high 60M) while a file larger than the
    # group streams through its page cache: reclaim, stalls, and memory.high breaches.
    before = snapshot(pressure)
    # One file per trigger: the kernel takes one trigger per open file.
    armed = {text: arm_reference_trigger(pressure, text) for text in (LOW_TRIGGER, SYSTEMD_TRIGGER, CRITICAL_TRIGGER)}
    triggers = {text: [] for text in armed}
    stop = threading.Event()

    def collect():
        poller = select.poll()
        texts = {}
        for text, fd in armed.items():
            poller.register(fd, select.POLLPRI)
            texts[fd] = text
        while not stop.is_set():
            for fd, _ in poller.poll(200):
                triggers[texts[fd]].append(int(time.time() * 1000))

    collector = threading.Thread(target=collect)
    collector.start()
    emit({'type': 'phase', 'name': 'pressure', 'edge': 'start'})
    status = run_in(pressure, '%s & sleep 2; end=$(($(date +%%s) + 10)); '
                              'while [ $(date +%%s) -lt $end ]; do cat %s > /dev/null; done; kill $!; wait'
                    % (anon(46, 30), STREAM), 60)
    emit({'type': 'phase', 'name': 'pressure', 'edge': 'end', 'status': status})
    # A breach pending when the stall stops fires up to a window (2 s) and a poll tick later, at
    # memshed's triggers and these alike; the test counts memshed's events up to its SLACK_MS (3 s)
    # past the end, so the reference listens longer than that.
    time.sleep(3.5)
    stop.set()
    collector.join()
    for fd in armed.values():
        os.close(fd)
    emit({'type': 'reference', 'name': 'pressure', 'before': before, 'after': snapshot(pressure),
          'triggerEvents': triggers})

    # OOM: 96M written into a 48M group; the kernel kills it.
    before = snapshot(oom)
    emit({'type': 'phase', 'name': 'oom', 'edge': 'start'})
    status = run_in(oom, 'exec ' + anon(96, 5), 60)
    time.sleep(2)  # the sources poll every 250 ms; give the watcher time to see the aftermath
    emit({'type': 'phase', 'name': 'oom', 'edge': 'end', 'status': status})
    emit({'type': 'reference', 'name': 'oom', 'before': before, 'after': snapshot(oom)})

    watcher.stdin.close()
    watcher.wait(60)

    # doctor in a service's group (256M), as root, and as uid 1000 without capabilities on a
    # read-only cgroupfs (a private mount namespace, as a container runtime sets it up).
    emit({'type': 'reference', 'name': 'svc', 'max': int(read(path(svc, 'memory.max')))})
    enter = 'echo $$ > %s;' % path(svc, 'cgroup.procs')
    doctor('root', enter + ' exec {node} {cli} doctor --json')
    # The checkout and the Node binary may sit below directories uid 1000 cannot enter (a clone in
    # /root): give it a bind mount of the checkout and a copy of Node in the guest's /tmp, and run it
    # from there (doctor lists the plugins installed where it runs).
    doctor('nonroot-readonly', """exec unshare -m sh -c '%s
        mount -o remount,bind,ro %s && grep " %s " /proc/self/mountinfo >&2 &&
        mkdir -p /tmp/memshed-checkout && mount --bind %s /tmp/memshed-checkout &&
        cp {node} /tmp/memshed-node && chmod 755 /tmp/memshed-node &&
        exec setpriv --reuid 1000 --regid 1000 --clear-groups sh -c "id -u >&2;
          cd /tmp/memshed-checkout && exec /tmp/memshed-node /tmp/memshed-checkout/%s doctor --json"'""" % (
        enter, MOUNT, MOUNT, REPO, os.path.relpath(CLI, REPO)))


if __name__ == '__main__':
    main()
