// ?ipv4Prefix=&ipv6Prefix= (docs/snapshot-protocol.md, "IP grouping"): the grouped answer must
// be what the exporter computes from the ungrouped one (exporter/conversion ip_aggregation.cc:
// networks by IpNetwork, "invalid" for what is not an address, sums per network, the top N by
// connections with ties by name). The reference below does exactly that to the ungrouped answer
// of the same proxy; ipNetwork is held to the exporter's by test/ip_network.test.mjs.
import assert from 'node:assert/strict';
import test from 'node:test';
import { ipNetwork } from '../src/ip_network.js';
import { respondToRequest } from '../src/respond.js';
import { fakeMetricsProxy, fakeProxy27, mixedClientAddress, sample27Data, sampleMetricsData } from '../testing/fake_proxies.mjs';

const kTricky = [
  '::ffff:203.0.113.7', '203.0.113.8', '::FFFF:203.0.113.9', // one /24, two of them IPv4-mapped
  '2001:db8:1:2::1', '2001:0db8:0001:0002:0000:0000:0000:0002', '2001:DB8:1:2:ffff::3', // one /64
  '2001:db8:0:0:1::1', '1:0:0:2::', 'fe80::1%eth0', '01.2.3.4', 'not an ip', '12345', '__proto__',
  'other', 'invalid', '', '::', '::1.2.3.4', '0.0.0.0', '255.255.255.255', 'caf\u00e9', 'lone \ud800',
];

function trickyData(count) {
  const data = sampleMetricsData();
  data.byIP = new Map();
  data.throughputByIP = new Map();
  const names = [...kTricky, ...Array.from({ length: count }, (_, i) => mixedClientAddress(i))];
  names.forEach((ip, i) => {
    // Many equal counts, so that the cut falls among ties.
    const connections = 1 + (i % 4);
    data.byIP.set(ip, connections);
    data.throughputByIP.set(ip, { in: connections * 10 + 0.5, out: i });
  });
  data.byIP.set('198.51.100.1', Number.NaN); // an invalid count: left out, grouped or not
  data.byIP.set('198.51.100.2', -1);
  data.throughputByIP.set('192.0.2.200', { in: 7, out: 8 }); // throughput without connections
  data.throughputByIP.set('192.0.2.201', { in: 7, out: Number.NaN });
  data.active = 1000;
  return data;
}

async function snapshotOf(proxy, query) {
  const reply = await respondToRequest('GET', `/v1/snapshot${query}`, { proxy });
  assert.equal(reply.status, 200, reply.body);
  return JSON.parse(reply.body);
}

// What the exporter makes of an ungrouped answer: networks by first appearance, sums, the cut.
function reference(ungrouped, { ipv4Prefix, ipv6Prefix, ips }) {
  const networkOf = (ip) => ipNetwork(ip, ipv4Prefix, ipv6Prefix) ?? 'invalid';
  const connections = new Map();
  for (const [ip, count] of Object.entries(ungrouped.connections.byIP)) {
    const network = networkOf(ip);
    connections.set(network, (connections.get(network) ?? 0) + count);
  }
  const throughput = new Map();
  for (const [ip, pair] of Object.entries(ungrouped.throughput.byIP)) {
    const network = networkOf(ip);
    const sum = throughput.get(network) ?? { in: 0, out: 0 };
    throughput.set(network, { in: sum.in + pair.in, out: sum.out + pair.out });
  }
  let chosen = [...connections];
  if (ips !== undefined) {
    chosen = chosen.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, ips);
  }
  const byIP = Object.fromEntries(chosen);
  const throughputByIP = ips === undefined
    ? Object.fromEntries(throughput)
    : Object.fromEntries(chosen.filter(([network]) => throughput.has(network))
      .map(([network]) => [network, throughput.get(network)]));
  return { byIP, throughputByIP, distinctNetworks: connections.size };
}

function assertGroupedAsReference(grouped, ungrouped, options) {
  const expected = reference(ungrouped, options);
  // The cut in its order (best first). Without one, the order is the proxy's and carries no
  // meaning (the ungrouped JSON lists an array-index name such as "12345" first, the proxy's Map
  // did not): compared as sets, values exactly.
  const entries = (map) => (options.ips === undefined ? Object.entries(map).sort() : Object.entries(map));
  assert.deepEqual(entries(grouped.connections.byIP), entries(expected.byIP));
  assert.deepEqual(entries(grouped.throughput.byIP), entries(expected.throughputByIP));
  assert.equal(grouped.connections.distinctNetworks, expected.distinctNetworks);
  assert.equal(grouped.connections.distinctIPs, ungrouped.connections.distinctIPs, 'distinctIPs counts addresses');
  assert.deepEqual(grouped.connections.ipGrouping, { ipv4Prefix: options.ipv4Prefix, ipv6Prefix: options.ipv6Prefix });
}

test('grouped answers equal the exporter\'s grouping of the ungrouped answer, with and without a cut', async () => {
  const proxy = fakeMetricsProxy(trickyData(3000));
  const ungrouped = await snapshotOf(proxy, '');
  for (const [ipv4Prefix, ipv6Prefix] of [[24, 64], [32, 128], [0, 0], [16, 48], [31, 127]]) {
    for (const ips of [undefined, 0, 1, 20, 5000]) {
      const query = `?${ips === undefined ? '' : `ips=${ips}&`}ipv4Prefix=${ipv4Prefix}&ipv6Prefix=${ipv6Prefix}`;
      const grouped = await snapshotOf(proxy, query);
      assertGroupedAsReference(grouped, ungrouped, { ipv4Prefix, ipv6Prefix, ips });
    }
  }
});

test('the keys of a grouped answer are networks: mapped IPv4 as IPv4, RFC 5952 IPv6, "invalid"', async () => {
  const grouped = await snapshotOf(fakeMetricsProxy(trickyData(0)), '?ipv4Prefix=24&ipv6Prefix=64');
  const { byIP } = grouped.connections;
  // '::ffff:203.0.113.7' (1), '203.0.113.8' (2), '::FFFF:203.0.113.9' (3), '0.0.0.0' and the rest apart.
  assert.equal(byIP['203.0.113.0/24'], 1 + 2 + 3);
  assert.equal(byIP['2001:db8:1:2::/64'], 4 + 1 + 2);
  assert.equal(byIP['1:0:0:2::/64'], 4);
  assert.ok(!('::ffff:203.0.113.0/24' in byIP));
  assert.ok(Object.keys(byIP).every((key) => key === 'invalid' || /^[0-9a-f:.]+\/[0-9]+$/.test(key)), Object.keys(byIP).join(' '));
  // 'fe80::1%eth0', '01.2.3.4', 'not an ip', '12345', '__proto__', 'other', 'invalid', '', 'café', 'lone \ud800'
  const invalid = [8, 9, 10, 11, 12, 13, 14, 15, 20, 21].reduce((sum, i) => sum + 1 + (i % 4), 0);
  assert.equal(byIP.invalid, invalid);
  assert.equal(grouped.connections.distinctIPs, kTricky.length + 2);
});

test('only the parameters switch grouping on; one of the pair defaults the other', async () => {
  const proxy = fakeMetricsProxy(trickyData(10));
  const plain = await snapshotOf(proxy, '?ips=5&other=1');
  assert.equal(plain.connections.ipGrouping, undefined);
  assert.equal(plain.connections.distinctNetworks, undefined);
  assert.deepEqual((await snapshotOf(proxy, '?ipv4Prefix=16')).connections.ipGrouping, { ipv4Prefix: 16, ipv6Prefix: 64 });
  assert.deepEqual((await snapshotOf(proxy, '?ipv6Prefix=48')).connections.ipGrouping, { ipv4Prefix: 24, ipv6Prefix: 48 });
  const order = Object.keys((await snapshotOf(proxy, '?ips=2&ipv4Prefix=24&ipv6Prefix=64')).connections);
  assert.deepEqual(order, ['active', 'total', 'byRoute', 'byIP', 'distinctIPs', 'ipGrouping', 'distinctNetworks']);
});

test('bad prefixes are a 400 naming the parameter', async () => {
  const proxy = fakeMetricsProxy();
  for (const [query, name] of [['ipv4Prefix=33', 'ipv4Prefix'], ['ipv4Prefix=-1', 'ipv4Prefix'],
    ['ipv4Prefix=', 'ipv4Prefix'], ['ipv4Prefix=2.5', 'ipv4Prefix'], ['ipv6Prefix=129', 'ipv6Prefix'],
    ['ipv6Prefix=0x10', 'ipv6Prefix'], ['ips=20&ipv4Prefix=24&ipv6Prefix=1000', 'ipv6Prefix']]) {
    const reply = await respondToRequest('GET', `/v1/snapshot?${query}`, { proxy });
    assert.equal(reply.status, 400, query);
    assert.match(reply.body, new RegExp(name), query);
  }
  for (const query of ['ipv4Prefix=0&ipv6Prefix=0', 'ipv4Prefix=32&ipv6Prefix=128', 'ipv4Prefix=024']) {
    assert.equal((await respondToRequest('GET', `/v1/snapshot?${query}`, { proxy })).status, 200, query);
  }
});

test('grouping reads byIP() whole, even when the proxy has topIPs()', async () => {
  const proxy = fakeMetricsProxy(trickyData(50));
  let topCalls = 0;
  const { topIPs } = proxy.metrics.connections;
  proxy.metrics.connections.topIPs = (limit) => { topCalls += 1; return topIPs(limit); };
  const ungrouped = await snapshotOf(proxy, '');
  const grouped = await snapshotOf(proxy, '?ips=3&ipv4Prefix=24&ipv6Prefix=64');
  assert.equal(topCalls, 0);
  assertGroupedAsReference(grouped, ungrouped, { ipv4Prefix: 24, ipv6Prefix: 64, ips: 3 });
});

test('every collection shape groups alike; a name given twice counts once, with its last value', async () => {
  const data = sample27Data();
  data.byIP = { '203.0.113.9': 5, '203.0.113.10': 4, '2001:db8::1': 2, nope: 1 };
  data.throughputByIP = { '203.0.113.9': { in: 1, out: 2 }, '203.0.113.10': { in: 3, out: 4 } };
  const objects = await snapshotOf(fakeProxy27(data), '?ips=1&ipv4Prefix=24&ipv6Prefix=64');
  assert.deepEqual(objects.connections.byIP, { '203.0.113.0/24': 9 });
  assert.deepEqual(objects.throughput.byIP, { '203.0.113.0/24': { in: 4, out: 6 } });
  assert.equal(objects.connections.distinctNetworks, 3);

  const records = sampleMetricsData();
  // An array of records, one IP twice: the later (valid) value replaces the earlier one.
  records.byIP = [{ ip: '203.0.113.9', count: 100 }, { ip: '203.0.113.10', count: 4 },
    { ip: '203.0.113.9', count: 5 }, { ip: '203.0.113.9', count: 'junk' }, ['2001:db8::1', 2]];
  records.throughputByIP = [['203.0.113.9', { in: 50, out: 50 }], ['203.0.113.9', { in: 1, out: 2 }],
    ['203.0.113.10', { in: 3, out: 4 }]];
  const arrays = await snapshotOf(fakeMetricsProxy(records), '?ipv4Prefix=24&ipv6Prefix=64');
  assert.deepEqual(arrays.connections.byIP, { '203.0.113.0/24': 9, '2001:db8::/64': 2 });
  assert.deepEqual(arrays.throughput.byIP, { '203.0.113.0/24': { in: 4, out: 6 } });
  assert.equal(arrays.connections.distinctIPs, 5, 'distinctIPs counts the entries, as ungrouped');
});

test('an override\'s byIP is grouped too, and learns the grouping from its context', async () => {
  const seen = [];
  const proxy = fakeMetricsProxy();
  const read = {
    connections: (_metrics, context) => {
      seen.push(context.ipGrouping);
      return { active: 3, total: 9, byIP: { '192.0.2.1': 1, '192.0.2.2': 2 } };
    },
  };
  const reply = await respondToRequest('GET', '/v1/snapshot?ipv4Prefix=24&ipv6Prefix=64', { proxy, read });
  const snapshot = JSON.parse(reply.body);
  assert.deepEqual(snapshot.connections.byIP, { '192.0.2.0/24': 3 });
  assert.deepEqual(seen, [{ ipv4Prefix: 24, ipv6Prefix: 64 }]);
});

test('throughput.byIP groups alike when it lists the IPs in another order, lists others, or misses some', async () => {
  // The throughput pass finds a network by position when both maps list the same IPs in the
  // same order; every other case parses the name again. Each must give the reference.
  const base = trickyData(2000);
  const entries = [...base.throughputByIP];
  const variants = {
    reversed: new Map([...entries].reverse()),
    'every other one': new Map(entries.filter((_, i) => i % 2 === 0)),
    'shifted by one': new Map([['192.0.2.99', { in: 1, out: 1 }], ...entries]),
    'some renamed': new Map(entries.map(([ip, pair], i) => [i % 3 === 0 ? `2001:db8:${i.toString(16)}::1` : ip, pair])),
  };
  for (const [name, throughputByIP] of Object.entries(variants)) {
    const proxy = fakeMetricsProxy({ ...base, throughputByIP });
    const ungrouped = await snapshotOf(proxy, '');
    for (const [ipv4Prefix, ipv6Prefix] of [[24, 64], [32, 128], [16, 96]]) {
      for (const ips of [undefined, 20]) {
        const query = `?${ips === undefined ? '' : `ips=${ips}&`}ipv4Prefix=${ipv4Prefix}&ipv6Prefix=${ipv6Prefix}`;
        const grouped = await snapshotOf(proxy, query);
        assert.doesNotThrow(() => assertGroupedAsReference(grouped, ungrouped, { ipv4Prefix, ipv6Prefix, ips }), `${name} ${query}`);
      }
    }
  }
});

test('a Map with a key that is not a string, after many that are, groups as the ungrouped answer', async () => {
  const data = trickyData(1000);
  data.byIP.set(7, 3); // "7" as a name, not an address
  data.byIP.set('7', 4); // the same name: the later value counts (as ungrouped)
  data.throughputByIP.set(12345, { in: 1, out: 2 });
  const proxy = fakeMetricsProxy(data);
  const ungrouped = await snapshotOf(proxy, '');
  for (const ips of [undefined, 0, 5]) {
    const query = `?${ips === undefined ? '' : `ips=${ips}&`}ipv4Prefix=24&ipv6Prefix=64`;
    assertGroupedAsReference(await snapshotOf(proxy, query), ungrouped, { ipv4Prefix: 24, ipv6Prefix: 64, ips });
  }
});
