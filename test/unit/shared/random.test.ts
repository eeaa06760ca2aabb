// The one seeded generator (src/shared/random.ts). Its first draws are pinned: MDF reports, the
// committed benchmark data and the docs' figures were drawn with it, so a change must be deliberate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gaussian, rng, Rng, shuffleInPlace, subSeed } from '../../../src/shared/random';

test('mulberry32: the first draws of seed 1 are pinned', () => {
  const r = rng(1);
  assert.deepEqual([r(), r(), r()], [0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
  const o = new Rng(1);
  assert.deepEqual([o.next(), o.next()], [0.6270739405881613, 0.002735721180215478], 'the object form draws the same stream');
});

test('sub-seeds: pinned, and one label per independent stream', () => {
  assert.equal(subSeed(7, 'control'), 3754223319);
  assert.equal(subSeed(7, 'kmeans'), 1540796959);
  assert.notEqual(subSeed(7, 'a'), subSeed(8, 'a'));
  const a = rng(subSeed(1, 'a'));
  const b = rng(subSeed(1, 'b'));
  assert.notDeepEqual([a(), a()], [b(), b()]);
});

test('draws stay in range; integers cover [0, n); normals have mean 0 and variance 1', () => {
  const o = new Rng(3);
  const seen = new Set<number>();
  for (let i = 0; i < 10000; i++) {
    const k = o.int(7);
    assert.ok(Number.isInteger(k) && k >= 0 && k < 7);
    seen.add(k);
  }
  assert.equal(seen.size, 7);
  const z = gaussian(rng(5));
  const xs = Array.from({ length: 40000 }, () => z());
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1);
  assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 0.03, `variance ${variance}`);
  const items = [1, 2, 3, 4, 5, 6];
  assert.deepEqual([...shuffleInPlace([...items], rng(2))].sort(), items, 'a shuffle is a permutation');
  assert.deepEqual(shuffleInPlace([...items], rng(2)), shuffleInPlace([...items], rng(2)), 'and seeded');
});
