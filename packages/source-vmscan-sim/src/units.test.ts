import { bytesToPages, pagesToMiB } from './units';

describe('bytesToPages', () => {
  it('rounds a partial page up', () => {
    expect(bytesToPages(4096)).toBe(1);
    expect(bytesToPages(4097)).toBe(2);
    expect(bytesToPages(0)).toBe(0);
  });
});

describe('pagesToMiB', () => {
  it('counts 4 KiB pages', () => {
    expect(pagesToMiB(256)).toBe(1);
  });
});
