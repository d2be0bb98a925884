import { MemshedError } from '@memshed/core';
import { SHED_PRIORITIES, isShedPriority, shedPriorityRank } from './index';

describe(shedPriorityRank, () => {
  it('ranks the priorities in shedding order, background first', () => {
    expect(SHED_PRIORITIES.map(shedPriorityRank)).toEqual([0, 1, 2, 3]);
    expect(shedPriorityRank('background')).toBeLessThan(shedPriorityRank('high'));
  });

  it('rejects a word that is not a priority, naming the known ones', () => {
    expect(() => shedPriorityRank('urgent' as never)).toThrow(MemshedError);
    expect(() => shedPriorityRank('urgent' as never)).toThrow("Unknown priority 'urgent'");
  });
});

describe(isShedPriority, () => {
  it('accepts the four words and nothing else', () => {
    expect(SHED_PRIORITIES.every(isShedPriority)).toBe(true);
    expect([isShedPriority('essential'), isShedPriority(2), isShedPriority(undefined)]).toEqual([
      false,
      false,
      false,
    ]);
  });
});
