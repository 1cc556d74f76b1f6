// The adapter's network of an IP must be the exporter's, byte for byte. The fixture holds
// (ip, ipv4Prefix, ipv6Prefix, network or null) as glibc's inet_pton / inet_ntop give them, for
// tricky forms (leading zeros, ::, an embedded IPv4, IPv4-mapped, zone ids, upper case, runs of
// zero groups that tie) and random addresses; tests/proxy_sim/ip_grouping_test.cc checks the
// same file against exporter::conversion::IpNetwork, so it cannot drift from the exporter.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import test from 'node:test';
import { ipNetwork, kInvalidNetwork, networkKey, networkText } from '../src/ip_network.js';

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
