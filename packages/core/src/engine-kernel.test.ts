import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createEngine } from './engine';
import { PRESSURE_LEVELS, PRESSURE_MODES } from './levels';
import { ManualScheduler } from './testing';

/** What test/bench/support/vmpressure-c.js exports (a plain script shared with the benchmark). */
interface VmpressureC {
  WORKLOAD: {
    seed: number;
    tick: number;
    paths: string[];
    parents: number[];
    registrations: { node: number; level: number; mode: number }[];
  };
  generateWorkload(spec: { seed: number; ops: number; parents: number[] }): {
    node: Uint8Array;
    kind: Uint8Array;
    scanned: Uint16Array;
    reclaimed: Uint16Array;
  };
  findCompiler(): { command: string; version: string } | undefined;
  buildVmpressureC(): { binary: string; compiler: string };
  runVmpressureC(
    binary: string,
    spec: object,
  ): { nsPerOp: number; socket: number; counts: [number, number, number][] };
}

const vmpressureC = createRequire(__filename)(
  join(__dirname, '../../../test/bench/support/vmpressure-c.js'),
) as VmpressureC;

describe('createEngine against a C transcription of mm/vmpressure.c', () => {
  if (!vmpressureC.findCompiler()) {
    it('is skipped: no C compiler', () => {
      process.stderr.write(
        'SKIPPED engine-vs-C fidelity test: no C compiler (tried $CC, cc, gcc, clang). ' +
          'Install gcc or set CC to compare the engine with test/bench/support/vmpressure.c.\n',
      );
    });
    return;
  }

  it('delivers the same events per listener and level, and the same socket pressure, on varied reclaim', () => {
    const { WORKLOAD } = vmpressureC;
    const spec = { ...WORKLOAD, ops: WORKLOAD.tick * 256, repeat: 1, rounds: 1 };
    const { binary } = vmpressureC.buildVmpressureC();
    const kernel = vmpressureC.runVmpressureC(binary, spec);

    const scheduler = new ManualScheduler();
    const engine = createEngine({ scheduler });
    const nodes = spec.paths.map((path) => engine.node(path, 'test'));
    const counts = spec.registrations.map(() => [0, 0, 0]);
    spec.registrations.forEach((registration, index) =>
      nodes[registration.node]
        .listen(PRESSURE_LEVELS[registration.level], PRESSURE_MODES[registration.mode])
        .subscribe((event) => counts[index][PRESSURE_LEVELS.indexOf(event.level)]++),
    );
    const input = vmpressureC.generateWorkload(spec);
    let socket = 0;
    for (let i = 0; i < spec.ops; i++) {
      const node = nodes[input.node[i]];
      if (input.kind[i] === 2) node.accountPriority(input.scanned[i]);
      else node.account(input.scanned[i], input.reclaimed[i], input.kind[i] === 1);
      if ((i + 1) % spec.tick === 0) {
        scheduler.advanceBy(1);
        for (const each of nodes) if (each.socketPressure()) socket++;
      }
    }
    scheduler.flush();

    // Every level and mode must have been exercised for the comparison to mean something.
    expect(counts.flat().filter((count) => count > 0).length).toBeGreaterThan(10);
    expect(socket).toBeGreaterThan(0);
    expect({ counts, socket }).toEqual({ counts: kernel.counts, socket: kernel.socket });
  });
});
