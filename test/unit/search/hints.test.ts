import { describe, expect, it } from 'vitest';
import { queryHints } from '../../../src/search/hints.ts';

describe('search/hints', () => {
  it.each([
    ['rank=8', "'rank=8' is searched as a word: write rank:8 to filter", 4],
    ['cyberpunk lora_rank=16', "'lora_rank=16' is searched as a word: write rank:16 to filter", 19],
    ['anime and rank:8', "'and' is searched as a word: keywords are upper case (AND)", 6],
    ['anime or city', "'or' is searched as a word: keywords are upper case (OR)", 6],
    ['anime Not city', "'Not' is searched as a word: keywords are upper case (NOT)", 6],
  ])('hints at %s', (query, message, pos) => {
    expect(queryHints(query)).toEqual([{ message, pos }]);
  });

  it.each(['rank:8 cyberpunk', 'a OR b', 'and', 'rock and', 'color=red', '"rank=8"', 'rock AND roll'])('has no hint for %s', (query) => {
    expect(queryHints(query)).toEqual([]);
  });
});
