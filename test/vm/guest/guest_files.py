"""What the guest drivers (cgroup2-sources.py, cgroup2-survival.py) share: JSON lines on stdout,
one at a time across threads, and plain reads and writes of the kernel's files."""
import json
import sys
import threading
import time

out_lock = threading.Lock()


def emit(record):
    record.setdefault('at', int(time.time() * 1000))
    with out_lock:
        sys.stdout.write(json.dumps(record) + '\n')
        sys.stdout.flush()


def write(file, text):
    with open(file, 'w') as f:
        f.write(text)


def read(file):
    with open(file) as f:
        return f.read()


def keyed(file):
    return {k: int(v) for k, v in (line.split() for line in read(file).splitlines() if line.strip())}
