import fc from 'fast-check';
import { parsePsi } from './psi-format';

const SAMPLE = `some avg10=1.50 avg60=0.25 avg300=0.05 total=123456
full avg10=0.75 avg60=0.10 avg300=0.00 total=65432
`;

describe('parsePsi', () => {
  it('parses both lines', () => {
    expect(parsePsi(SAMPLE)).toEqual({
      ok: true,
      value: {
        some: { avg10: 1.5, avg60: 0.25, avg300: 0.05, total: 123456 },
        full: { avg10: 0.75, avg60: 0.1, avg300: 0, total: 65432 },
      },
    });
  });

  it('accepts a file with only the some line (cpu pressure on old kernels)', () => {
    const result = parsePsi('some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n');
    expect(result).toEqual({
      ok: true,
      value: { some: { avg10: 0, avg60: 0, avg300: 0, total: 0 }, full: undefined },
    });
  });

  it.each([
    ['', "no 'some' line"],
    ['full avg10=0.00 avg60=0.00 avg300=0.00 total=0', "no 'some' line"],
    [
      'some avg10=0.00 avg60=0.00 total=0',
      "line 1: expected 'some|full avg10=N.NN avg60=N.NN avg300=N.NN total=N', got 'some avg10=0.00 avg60=0.00 total=0'",
    ],
    ['some avg10=x avg60=0.00 avg300=0.00 total=0', 'line 1: expected'],
    [SAMPLE + SAMPLE, "line 3: a second 'some' line"],
    [
      'some avg10=0.00 avg60=0.00 avg300=0.00 total=99999999999999999999',
      'line 1: total=99999999999999999999 is out of range',
    ],
  ])('rejects %p with a clear error', (text, error) => {
    const result = parsePsi(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain(error);
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const result = parsePsi(Buffer.from(bytes).toString('utf8'));
        return typeof result.ok === 'boolean';
      }),
      { numRuns: 5000 },
    );
  });

  it("never throws on near-miss text built from the format's own pieces", () => {
    const piece = fc.constantFrom(
      'some',
      'full',
      ' ',
      'avg10=',
      'avg60=',
      'avg300=',
      'total=',
      '1.00',
      '7',
      '\n',
      '=',
      '-',
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 40 }),
        (pieces) => typeof parsePsi(pieces.join('')).ok === 'boolean',
      ),
      { numRuns: 5000 },
    );
  });

  it('reads back any well-formed file', () => {
    const line = fc.record({
      avg10: fc.integer({ min: 0, max: 10000 }),
      avg60: fc.integer({ min: 0, max: 10000 }),
      avg300: fc.integer({ min: 0, max: 10000 }),
      total: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    });
    const format = (kind: string, l: { avg10: number; avg60: number; avg300: number; total: number }) =>
      `${kind} avg10=${(l.avg10 / 100).toFixed(2)} avg60=${(l.avg60 / 100).toFixed(2)} avg300=${(l.avg300 / 100).toFixed(2)} total=${l.total}`;
    fc.assert(
      fc.property(line, line, (some, full) => {
        const result = parsePsi(`${format('some', some)}\n${format('full', full)}\n`);
        return (
          result.ok && result.value.some.total === some.total && result.value.full?.avg10 === full.avg10 / 100
        );
      }),
    );
  });
});
