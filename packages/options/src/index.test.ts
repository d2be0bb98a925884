import {
  bytesOption,
  bytesOrPercentOption,
  durationOption,
  durationOrNeverOption,
  orFalse,
  partOf,
  rateOption,
  unitOf,
  z,
} from './index';

describe('unit options', () => {
  it.each([
    [durationOption, '1.5s', 1500],
    [durationOption, 5000, 5000],
    [durationOrNeverOption, 'never', Infinity],
    [bytesOption, '512Mi', 512 * 2 ** 20],
    [bytesOrPercentOption, '75%', { percent: 75 }],
    [bytesOrPercentOption, '1K', { bytes: 1024 }],
    [rateOption, '2MiB/s', 2 * 2 ** 20],
  ] as const)('%#: reads %p', (schema, input, expected) => {
    expect((schema as z.ZodType).parse(input)).toEqual(expected);
  });

  it("turns the grammar's refusal into an issue with its message", () => {
    const result = z.strictObject({ limit: bytesOption }).safeParse({ limit: '512MB' });
    expect(result.error?.issues).toMatchObject([
      { path: ['limit'], message: expect.stringMatching(/^'512MB' is ambiguous: write 512MiB \(or 512M\)/) },
    ]);
  });

  it('names what is expected when the value is missing or not a number or text', () => {
    const schema = z.strictObject({ every: durationOption });
    expect(schema.safeParse({}).error?.issues[0].message).toBe(
      "required: a duration such as '500ms', '5s', '2m' or '5000'",
    );
    expect(schema.safeParse({ every: true }).error?.issues[0].message).toBe(
      "expected a duration such as '500ms', '5s', '2m' or '5000', got true",
    );
  });

  it('keeps its marker through refine, describe and wrappers, so tools find it', () => {
    const refined = durationOption.refine((ms) => ms > 0).describe('a period');
    expect(unitOf(refined)?.unit).toBe('duration');
    expect(unitOf(bytesOption)?.pattern).toMatch(/^\^/);
    expect(unitOf(z.number())).toBeUndefined();
    expect(unitOf(refined.optional())).toBeUndefined(); // a wrapper: tools look inside it
  });
});

describe(orFalse, () => {
  const part = z.strictObject({ interval: durationOption.default(1000) });
  const schema = z.strictObject({ host: orFalse(part) });

  it('takes false, or the part with its defaults', () => {
    expect(schema.parse({ host: false })).toEqual({ host: false });
    expect(schema.parse({})).toEqual({ host: { interval: 1000 } });
    expect(schema.parse({ host: { interval: '2s' } })).toEqual({ host: { interval: 2000 } });
  });

  it("reports a mistake inside the part at the part's own key path", () => {
    expect(schema.safeParse({ host: { interval: 'soon' } }).error?.issues[0]).toMatchObject({
      path: ['host', 'interval'],
      message: expect.stringMatching(/^Invalid duration 'soon'/),
    });
  });

  it('lets tools see the part', () => {
    expect(partOf(schema.shape.host)).toBe(part);
  });
});
