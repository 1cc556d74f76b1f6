// The grouping's hash table (src/network_table.js): a network per distinct ipNetwork() text,
// numbered in order of first appearance, also when it grows past what was announced, and for
// prefixes that keep two words per network (IPv6 /64 and shorter) or four.
import assert from 'node:assert/strict';
import test from 'node:test';
import { ipNetwork, kInvalidNetwork } from '../src/ip_network.js';
import { grownTo, NetworkTable } from '../src/network_table.js';
import { mixedClientAddress } from '../testing/fake_proxies.mjs';

const kTricky = ['203.0.113.7', '::ffff:203.0.113.8', '::ffff:cb00:7109', '2001:db8:1:2::1', '2001:DB8:1:2:ffff::3',
  '2001:db8:1:3::1', 'fe80::1%eth0', '01.2.3.4', '', 'invalid', '::', '::1.2.3.4', '0.0.0.0', '::ffff:0.0.0.0',
  '255.255.255.255', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:9', '1:2:3:4:5:6:8:8', undefined, 7];

function addresses(count) {
  const list = [...kTricky];
  for (let i = 0; i < count; i += 1) {
    list.push(mixedClientAddress(i));
    if (i % 7 === 0) list.push(mixedClientAddress(i >> 1)); // some again
  }
  return list;
}

for (const [ipv4Prefix, ipv6Prefix] of [[24, 64], [32, 128], [0, 0], [16, 48], [31, 127], [8, 65], [32, 96]]) {
  for (const expected of [0, 100000]) {
    test(`NetworkTable /${ipv4Prefix} /${ipv6Prefix}, ${expected} announced: groups are the networks in order of first appearance`, () => {
      const table = new NetworkTable({ ipv4Prefix, ipv6Prefix }, expected);
      const reference = new Map(); // network text -> group
      const names = addresses(5000);
      for (const name of names) {
        const text = ipNetwork(name, ipv4Prefix, ipv6Prefix) ?? kInvalidNetwork;
        if (!reference.has(text)) reference.set(text, reference.size);
        assert.equal(table.groupOf(name, true), reference.get(text), String(name));
      }
      assert.equal(table.size, reference.size);
      assert.ok(table.capacity >= table.size);
      for (const [text, group] of reference) assert.equal(table.textOf(group), text);
      // Looked up again (without adding): the same groups; a new network is not added.
      for (const name of names) {
        assert.equal(table.groupOf(name, false), reference.get(ipNetwork(name, ipv4Prefix, ipv6Prefix) ?? kInvalidNetwork));
      }
      const size = table.size;
      const fresh = ['9.9.9.9', '2001:db8:ffff:ffff:ffff:ffff::1'].filter(
        (ip) => !reference.has(ipNetwork(ip, ipv4Prefix, ipv6Prefix)));
      for (const ip of fresh) assert.equal(table.groupOf(ip, false), -1, ip);
      assert.equal(table.size, size);
    });
  }
}

test('NetworkTable: IPv4, IPv4-mapped and IPv6 networks with equal bits stay apart', () => {
  const table = new NetworkTable({ ipv4Prefix: 32, ipv6Prefix: 128 });
  const v4 = table.groupOf('0.0.0.1', true);
  const v6 = table.groupOf('::1', true); // the same low bits, an IPv6 network
  const invalid = table.groupOf('nope', true);
  const zero6 = table.groupOf('::', true);
  const zero4 = table.groupOf('0.0.0.0', true);
  assert.equal(new Set([v4, v6, invalid, zero6, zero4]).size, 5);
  assert.equal(table.groupOf('::ffff:0.0.0.1', true), v4);
  assert.equal(table.groupOf('::ffff:0:1', true), v4);
  assert.equal(table.groupOf('0:0:0:0:0:0:0:1', true), v6);
  assert.equal(table.groupOf(undefined, true), invalid);
  assert.deepEqual([v4, v6, invalid, zero6, zero4].map((g) => table.textOf(g)),
    ['0.0.0.1/32', '::1/128', 'invalid', '::/128', '0.0.0.0/32']);
});

test('grownTo keeps the values and zero-fills the rest', () => {
  const small = Float64Array.of(1.5, -0, 3);
  assert.equal(grownTo(small, 2), small);
  const bigger = grownTo(small, 5);
  assert.ok(bigger.length >= 5);
  assert.ok(Object.is(bigger[1], -0));
  assert.deepEqual([...bigger.subarray(0, 3)], [1.5, -0, 3]);
  assert.ok([...bigger.subarray(3)].every((x) => x === 0));
});

// The grouping reads a Map through two iterators, keys() and values(), moved in step (no
// [name, value] array per entry). That relies on two iterators of one Map at the same position
// seeing the same entries however the Map changes between two steps (a proxy may hand out a
// live Map that changes between two slices): deletions, additions, rehashing, clear().
test('keys() and values() moved in step stay paired while the Map changes', () => {
  let seed = 99;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  for (let round = 0; round < 20; round += 1) {
    const map = new Map();
    for (let i = 0; i < 200; i += 1) map.set(`k${i}`, `v${i}`);
    let next = 200;
    const keys = map.keys();
    const values = map.values();
    let steps = 0;
    for (;;) {
      const key = keys.next();
      const value = values.next();
      assert.equal(key.done, value.done);
      if (key.done) break;
      assert.equal(value.value, `v${key.value.slice(1)}`);
      steps += 1;
      const change = random();
      if (change < 0.2) {
        for (let n = 0; n < 50; n += 1) map.delete(`k${Math.floor(random() * next)}`); // shrinks, rehashes
      } else if (change < 0.4) {
        for (let n = 0; n < 300; n += 1, next += 1) map.set(`k${next}`, `v${next}`); // grows, rehashes
      } else if (change < 0.42) {
        map.clear();
      } else if (change < 0.5) {
        map.set(key.value, map.get(key.value)); // an existing key set again: stays in place
      }
      if (steps > 5000) break;
    }
  }
});
