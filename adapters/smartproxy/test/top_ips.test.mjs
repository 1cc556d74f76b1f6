// The partial selection agrees with a full sort, including ties, on random data.
import assert from 'node:assert/strict';
import test from 'node:test';
import { topEntries } from '../src/top_ips.js';

function fullSortTop(map, limit) {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, limit);
}

test('topEntries equals a full sort with ties broken by IP', () => {
  let seed = 12345;
  const random = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed; };
  for (const size of [0, 1, 5, 100, 5000]) {
    const map = new Map();
    for (let i = 0; i < size; i += 1) map.set(`ip${random() % (size * 2 + 1)}`, random() % 10);
    for (const limit of [0, 1, 3, 20, size, size + 5]) {
      assert.deepEqual(topEntries(map, limit), fullSortTop(map, limit), `size ${size} limit ${limit}`);
    }
  }
});

test('topEntries skips counts that are not finite non-negative numbers', () => {
  const map = new Map([['a', Number.NaN], ['b', -1], ['c', 2], ['d', '5']]);
  assert.deepEqual(topEntries(map, 10), [['c', 2]]);
});
