import { chunk, inPool } from '../../core/batches';
import { forEachPage } from '../../core/pages';

describe('forEachPage', () => {
  test('asks for each page with the token of the one before, until a page has none', async () => {
    const asked: (string | undefined)[] = [];
    const pages: Record<string, { items: number[]; NextToken?: string }> = {
      first: { items: [1, 2], NextToken: 'b' },
      b: { items: [3], NextToken: 'c' },
      c: { items: [4], NextToken: '' },
    };
    const items: number[] = [];
    await forEachPage(
      async (token) => {
        asked.push(token);
        return pages[token ?? 'first']!;
      },
      (page) => items.push(...page.items),
    );
    expect(asked).toEqual([undefined, 'b', 'c']);
    expect(items).toEqual([1, 2, 3, 4]);
  });

  test('stops with an error when AWS answers a token it gave before, instead of looping', async () => {
    let calls = 0;
    await expect(
      forEachPage(
        async (token) => {
          calls += 1;
          return { NextToken: token === 'a' ? 'b' : 'a' };
        },
        () => {},
      ),
    ).rejects.toThrow('AWS answered the NextToken "a" twice');
    expect(calls).toBe(3);
  });
});

describe('chunk and inPool', () => {
  test('chunk slices in order, the last slice shorter', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 3)).toEqual([]);
  });

  test('inPool runs every item, never more than the pool size at once', async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    await inPool([1, 2, 3, 4, 5, 6, 7], 3, async (item) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setImmediate(resolve));
      done.push(item);
      running -= 1;
    });
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(most).toBe(3);
  });
});
