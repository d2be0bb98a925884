import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  DarwinPressureReader,
  MeminfoReader,
  WindowsMemoryReader,
  darwinPressureLevel,
  parseDarwinSysctl,
  windowsMemoryLoad,
} from './host-reader';

const FIXTURES = path.join(
  path.dirname(require.resolve('@memshed/cgroupfs/package.json')),
  'src/__fixtures__',
);
const KiB = 1024;

describe(MeminfoReader, () => {
  describe('.read', () => {
    it('reads MemTotal and MemAvailable below its root', () => {
      expect(new MeminfoReader(path.join(FIXTURES, 'no-cgroup')).read()).toEqual({
        kind: 'available',
        total: 8053464 * KiB,
        available: 1610692 * KiB,
      });
    });

    it('reads the real /proc/meminfo', () => {
      const memory = new MeminfoReader().read();
      expect(memory.kind).toBe('available');
      if (memory.kind !== 'available') return;
      expect(memory.total).toBeGreaterThan(memory.available);
      expect(memory.available).toBeGreaterThan(0);
    });

    it('stands in MemFree + Buffers + Cached on kernels without MemAvailable (< 3.14)', () => {
      const root = mkdtempSync(path.join(tmpdir(), 'memshed-meminfo-'));
      try {
        mkdirSync(path.join(root, 'proc'));
        writeFileSync(
          path.join(root, 'proc/meminfo'),
          'MemTotal:  1000 kB\nMemFree:  100 kB\nBuffers:  20 kB\nCached:  30 kB\n',
        );
        expect(new MeminfoReader(root).read()).toEqual({
          kind: 'available',
          total: 1000 * KiB,
          available: 150 * KiB,
        });
        writeFileSync(path.join(root, 'proc/meminfo'), 'nonsense\n');
        expect(() => new MeminfoReader(root).read()).toThrow('has no MemTotal');
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  });
});

describe('windowsMemoryLoad', () => {
  it("computes GlobalMemoryStatusEx's dwMemoryLoad from total and available physical memory", () => {
    // Recorded pairs (ullTotalPhys, ullAvailPhys -> dwMemoryLoad) as Task Manager shows them.
    expect(windowsMemoryLoad(17_079_959_552, 5_992_390_656)).toBe(65);
    expect(windowsMemoryLoad(8_454_070_272, 845_407_027)).toBe(90);
    expect(windowsMemoryLoad(0, 0)).toBe(0);
  });
});

describe(WindowsMemoryReader, () => {
  describe('.read', () => {
    it('reads total and available from os, with no process', () => {
      const reader = new WindowsMemoryReader({ totalmem: () => 16e9, freemem: () => 4e9 });
      expect(reader.read()).toEqual({ kind: 'available', total: 16e9, available: 4e9 });
      expect(reader.tested).toBe(false);
    });
  });
});

describe('parseDarwinSysctl', () => {
  it.each([
    ['1\n', 1],
    ['4', 4],
    ['kern.memorystatus_vm_pressure_level: 2\n', 2],
    ['kern.memorystatus_vm_pressure_level = 4\n', 4],
  ])('reads %j', (output, value) => {
    expect(parseDarwinSysctl(output)).toBe(value);
  });

  it('rejects anything else', () => {
    expect(() => parseDarwinSysctl('sysctl: unknown oid')).toThrow('unexpected sysctl output');
  });
});

describe('darwinPressureLevel', () => {
  it('maps xnu 1 normal, 2 warn, 4 critical', () => {
    expect(darwinPressureLevel(1)).toBe('normal');
    expect(darwinPressureLevel(2)).toBe('medium');
    expect(darwinPressureLevel(4)).toBe('critical');
    expect(() => darwinPressureLevel(3)).toThrow('unknown kern.memorystatus_vm_pressure_level 3');
  });
});

describe(DarwinPressureReader, () => {
  describe('.read', () => {
    it('runs sysctl -n for the pressure level', async () => {
      const names: string[] = [];
      const reader = new DarwinPressureReader(async (name) => {
        names.push(name);
        return '2\n';
      });
      await expect(reader.read()).resolves.toEqual({ kind: 'level', level: 'medium', raw: 2 });
      expect(names).toEqual(['kern.memorystatus_vm_pressure_level']);
    });
  });
});
