// The adapter's network of an IP must be the exporter's, byte for byte. The fixture holds
// (ip, ipv4Prefix, ipv6Prefix, network or null) as glibc's inet_pton / inet_ntop give them, for
// tricky forms (leading zeros, ::, an embedded IPv4, IPv4-mapped, zone ids, upper case, runs of
// zero groups that tie) and random addresses; tests/proxy_sim/ip_grouping_test.cc checks the
// same file against exporter::conversion::IpNetwork, so it cannot drift from the exporter.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import test from 'node:test';
import {
  ipNetwork, kInvalidNetwork, kIPv4Network, kIPv6Network, kNotAnAddress, networkKey, networkMasks, networkText,
  networkWords, wordsText,
} from '../src/ip_network.js';

const cases = JSON.parse(readFileSync(new URL('./fixtures/ip_networks.json', import.meta.url), 'utf8'));

test('ipNetwork gives what the exporter gives for every fixture address and prefix pair', () => {
  assert.ok(cases.length > 1000);
  const wrong = [];
  for (const [ip, ipv4Prefix, ipv6Prefix, expected] of cases) {
    const got = ipNetwork(ip, ipv4Prefix, ipv6Prefix) ?? null;
    if (got !== expected) wrong.push({ ip, ipv4Prefix, ipv6Prefix, expected, got });
  }
  assert.deepEqual(wrong, []);
});

test('ipNetwork: the forms that matter, spelled out', () => {
  const cases24 = [
    ['203.0.113.7', '203.0.113.0/24'],
    ['::ffff:203.0.113.7', '203.0.113.0/24'], // IPv4-mapped counts as IPv4
    ['::FFFF:203.0.113.7', '203.0.113.0/24'],
    ['0:0:0:0:0:ffff:203.0.113.7', '203.0.113.0/24'],
    ['2001:0DB8:0001:0002:0003:0004:0005:0006', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8::/64'],
    ['2001:db8:0:1:2::', '2001:db8:0:1::/64'], // a single zero group is not compressed
  ];
  for (const [ip, network] of cases24) assert.equal(ipNetwork(ip, 24, 64), network, ip);
  assert.equal(ipNetwork('1:0:0:2:0:0:3:4', 32, 128), '1::2:0:0:3:4/128', 'the first of two equal runs');
  assert.equal(ipNetwork('1:0:0:2:0:0:0:4', 32, 128), '1:0:0:2::4/128', 'the longest run');
  assert.equal(ipNetwork('::1.2.3.4', 32, 128), '::1.2.3.4/128', 'IPv4-compatible keeps its dotted tail');
  for (const junk of ['01.2.3.4', '1.2.3', 'fe80::1%eth0', '1::2::3', '12345::', ' 1.2.3.4', '', 'other']) {
    assert.equal(ipNetwork(junk, 24, 64), undefined, junk);
  }
  assert.equal(networkText(networkKey('nope', 24, 64), 24, 64), kInvalidNetwork);
});

// The grouping's fast path (networkWords: one pass, IPv4 straight to its network, IPv6 in
// 16-bit groups) must decide exactly what the step-by-step transliteration of glibc above
// decides: the same addresses, the same networks, the same texts.
const kPrefixPairs = [[24, 64], [32, 128], [0, 0], [16, 48], [31, 127], [1, 1], [8, 96], [23, 65], [30, 33], [32, 63]];

function fastNetwork(ip, ipv4Prefix, ipv6Prefix) {
  const out = new Int32Array(4);
  const kind = networkWords(ip, networkMasks(ipv4Prefix, ipv6Prefix), out);
  return wordsText(kind, out[0], out[1], out[2], out[3], ipv4Prefix, ipv6Prefix);
}

function assertFastAsGeneral(inputs) {
  const wrong = [];
  for (const ip of inputs) {
    for (const [ipv4Prefix, ipv6Prefix] of kPrefixPairs) {
      const expected = ipNetwork(ip, ipv4Prefix, ipv6Prefix) ?? kInvalidNetwork;
      const got = fastNetwork(ip, ipv4Prefix, ipv6Prefix);
      if (got !== expected) wrong.push({ ip, ipv4Prefix, ipv6Prefix, expected, got });
    }
  }
  assert.deepEqual(wrong.slice(0, 10), []);
}

const kHandPicked = [
  // IPv4: canonical, and what inet_pton4 refuses
  '203.0.113.7', '0.0.0.0', '255.255.255.255', '1.2.3.4', '10.0.0.1', '01.2.3.4', '1.02.3.4', '1.2.3.04', '00.1.2.3',
  '0.1.2.3', '1.2.3.4.5', '1.2.3', '1.2.3.', '.1.2.3.4', '1..2.3', '256.1.1.1', '1.256.1.1', '1.2.3.256', '999.1.1.1',
  '1.2.3.4 ', ' 1.2.3.4', '1.2.3.4\0', '1.2.3.4%eth0', '1.2.3.4/24', '1.2.3.-4', '+1.2.3.4', '١.2.3.4', '1.2.3.4:80',
  '1234', '12345', '0', '', '.', '...', 'a.b.c.d',
  // IPv6: "::" anywhere, upper case, leading zeros, too many or too few groups
  '::', '::1', '1::', '1::2', '::ffff', 'ffff::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8',
  '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '1:2:3:4::5:6:7:8', '1::2::3', ':::', '1:::2', ':1::2', '1::2:', ':',
  '2001:DB8:1:2::1', '2001:0DB8:0001:0002:0003:0004:0005:0006', '2001:db8:0:1:2::', '02001:db8::1', '0001::1',
  '01::1', '0::0', '12345::', 'g::1', '2001:db8::1/64', 'fe80::1%eth0', 'fe80::1%1', '[::1]', '::1 ',
  '1:0:0:2:0:0:3:4', '1:0:0:2:0:0:0:4', '0:0:0:0:0:0:0:0', '0:0:0:0:0:0:0:1',
  // IPv4-mapped (as IPv4), in dotted and hex form, and what is not mapped
  '::ffff:1.2.3.4', '::FFFF:203.0.113.7', '0:0:0:0:0:ffff:203.0.113.7', '::ffff:102:304', '::ffff:cb00:7107',
  '::ffff:0.0.0.0', '::ffff:255.255.255.255', '::ffff:1.2.3', '::ffff:01.2.3.4', '::ffff:1.2.3.4.5',
  '::ffff:256.1.1.1', '::fffe:1.2.3.4', '::1:ffff:1.2.3.4', '1::ffff:1.2.3.4', '::ffff:1.2.3.4:1', '::ffff:',
  '::ffff:0:1.2.3.4', '::ffff:ffff:1.2.3.4',
  // an IPv4 tail in IPv6 that is not mapped
  '::1.2.3.4', '::0.0.0.1', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '1::1.2.3.4', '1:2::3:4:1.2.3.4',
  '::1.2.3.4:5', '::1.2.3', '1.2.3.4::', '::1.2.3.4.5', '::12.34.56.789', '::1.2.3.04', '2001:db8::192.0.2.33',
  // not strings
  undefined, null, 12345, 1.5, {}, ['1.2.3.4'],
];

test('networkWords gives what the exporter gives for every fixture address and prefix pair', () => {
  const wrong = [];
  for (const [ip, ipv4Prefix, ipv6Prefix, expected] of cases) {
    const got = fastNetwork(ip, ipv4Prefix, ipv6Prefix);
    if (got !== (expected ?? kInvalidNetwork)) wrong.push({ ip, ipv4Prefix, ipv6Prefix, expected, got });
  }
  assert.deepEqual(wrong, []);
});

test('networkWords decides as the general parser: hand-picked forms', () => {
  assertFastAsGeneral(kHandPicked);
});

test('networkWords decides as the general parser: the fixture and random texts', () => {
  let seed = 12345;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const pick = (list) => list[Math.floor(random() * list.length)];
  const alphabet = '0123456789abcdefABCDEF::::....%xg ';
  const inputs = cases.map(([ip]) => ip);
  const seeds = [...inputs, ...kHandPicked.filter((ip) => typeof ip === 'string')];
  for (let i = 0; i < 20000; i += 1) {
    const kind = random();
    let ip = '';
    if (kind < 0.25) {
      // random characters from the alphabet of addresses
      const length = Math.floor(random() * 20);
      for (let k = 0; k < length; k += 1) ip += pick(alphabet);
    } else if (kind < 0.55) {
      // a known form with one to three characters inserted, removed or replaced
      ip = pick(seeds);
      for (let edits = 1 + Math.floor(random() * 3); edits > 0; edits -= 1) {
        const at = Math.floor(random() * (ip.length + 1));
        const op = random();
        if (op < 1 / 3) ip = ip.slice(0, at) + pick(alphabet) + ip.slice(at);
        else if (op < 2 / 3) ip = ip.slice(0, at) + ip.slice(at + 1);
        else ip = ip.slice(0, at) + pick(alphabet) + ip.slice(at + 1);
      }
    } else if (kind < 0.8) {
      // groups of 0 to 5 hex digits (some empty, some dotted quads), joined by colons
      const parts = [];
      for (let k = Math.floor(random() * 10); k > 0; k -= 1) {
        const part = random();
        if (part < 0.2) parts.push('');
        else if (part < 0.3) parts.push(Array.from({ length: 4 }, () => Math.floor(random() * 300)).join('.'));
        else parts.push(Math.floor(random() * 0x1ffff).toString(16).slice(0, 1 + Math.floor(random() * 5)));
      }
      ip = parts.join(':');
      if (random() < 0.3) ip = ip.toUpperCase();
    } else {
      // dotted quads, some with leading zeros or octets over 255, some after an IPv6 prefix
      const octet = () => {
        const r = random();
        if (r < 0.1) return `0${Math.floor(random() * 30)}`;
        return String(Math.floor(random() * (r < 0.9 ? 256 : 1000)));
      };
      const octets = Array.from({ length: 3 + Math.floor(random() * 3) }, octet);
      ip = (random() < 0.4 ? pick(['::ffff:', '::FFFF:', '::', '0:0:0:0:0:ffff:', '1::', '::fffe:', '::ffff:0:']) : '') + octets.join('.');
    }
    inputs.push(ip);
  }
  assertFastAsGeneral(inputs);
});

test('networkMasks: the network bits of each prefix as int32 words', () => {
  assert.deepEqual([...networkMasks(24, 64)], [-256, -1, -1, 0, 0]);
  assert.deepEqual([...networkMasks(0, 0)], [0, 0, 0, 0, 0]);
  assert.deepEqual([...networkMasks(32, 128)], [-1, -1, -1, -1, -1]);
  assert.deepEqual([...networkMasks(1, 65)], [-2147483648, -1, -1, -2147483648, 0]);
  const out = new Int32Array(4);
  assert.equal(networkWords('::ffff:102:304', networkMasks(24, 64), out), kIPv4Network);
  assert.deepEqual([...out], [0x01020300, 0, 0, 0]);
  assert.equal(networkWords('2001:db8:1:2:3:4:5:6', networkMasks(24, 64), out), kIPv6Network);
  assert.deepEqual([...out], [0x20010db8, 0x00010002, 0, 0]);
  assert.equal(networkWords('fe80::1%eth0', networkMasks(24, 64), out), kNotAnAddress);
  assert.deepEqual([...out], [0, 0, 0, 0]);
});
