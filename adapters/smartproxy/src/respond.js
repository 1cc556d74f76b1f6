// HTTP semantics of protocol v1 without any I/O: request line in, status and body out. The
// proxy's getters are read here (snapshot.js, under one deadline), the body is written in slices
// (serialise.js); bench/snapshot-cost.mjs measures the cost.
import { serialiseSnapshot } from './serialise.js';
import { Slicer } from './slices.js';
import { buildSnapshotParts } from './snapshot.js';

const kSnapshotPath = '/v1/snapshot';
const kMaxReasonLength = 1024;

/**
 * Resolves to { status, headers, chunks, body } for one request; never rejects. `chunks` are
 * the body's strings in order (a snapshot of many IPs is several), `body` joins them. A required
 * field that cannot be read becomes a 500 whose text/plain body names the getter.
 * context: { proxy, tracker (identity.js InstanceTracker), countDistinctIPs, deadlineMs, read,
 * signal (ends pending reads and the work after them: the exporter hung up or the server is
 * closing), slicer (slices.js; default: a new one on `signal`) }.
 */
export async function respondToRequest(method, url, context) {
  try {
    const target = parseTarget(url);
    if (target.path !== kSnapshotPath) return textReply(404, 'not found: only GET /v1/snapshot is served');
    if (method !== 'GET') return textReply(405, 'method not allowed: use GET', { Allow: 'GET' });
    const query = parseQuery(target.query);
    if (query.error !== undefined) return textReply(400, `bad request: ${query.error}`);
    const { tracker } = context;
    const slicer = context.slicer ?? new Slicer({ signal: context.signal });
    const token = tracker?.begin();
    const snapshot = await buildSnapshotParts(context.proxy, {
      ipLimit: query.ipLimit,
      ipGrouping: query.ipGrouping,
      identity: tracker === undefined ? undefined : (built) => tracker.observe(token, built),
      countDistinctIPs: context.countDistinctIPs,
      deadlineMs: context.deadlineMs,
      read: context.read,
      signal: context.signal,
      slicer,
    });
    const { chunks, bytes } = await serialiseSnapshot(snapshot, slicer);
    return {
      status: 200,
      headers: {
        'Content-Type': 'application/json',
        'Content-Length': bytes,
        'Cache-Control': 'no-store',
      },
      chunks,
      get body() {
        return chunks.join('');
      },
    };
  } catch (error) {
    return textReply(500, `snapshot failed: ${reasonOf(error)}`);
  }
}

function parseTarget(url) {
  const text = typeof url === 'string' ? url : '';
  const mark = text.indexOf('?');
  return mark < 0
    ? { path: text, query: '' }
    : { path: text.slice(0, mark), query: text.slice(mark + 1) };
}

// The prefixes of ?ipv4Prefix= / ?ipv6Prefix= (docs/snapshot-protocol.md, "IP grouping").
const kPrefixParameters = [['ipv4Prefix', 32], ['ipv6Prefix', 128]];
// A missing one of the pair takes its default.
const kDefaultGrouping = { ipv4Prefix: 24, ipv6Prefix: 64 };

// { ipLimit?, ipGrouping? } or { error }. Other parameters are ignored so that a newer exporter
// can ask for more without breaking this adapter.
function parseQuery(query) {
  if (query === '') return {};
  const parameters = new URLSearchParams(query);
  const result = {};
  const ips = parameters.get('ips');
  if (ips !== null) {
    if (!/^[0-9]+$/.test(ips)) return { error: 'ips must be a decimal integer >= 0' };
    result.ipLimit = Number(ips);
  }
  let grouping;
  for (const [name, max] of kPrefixParameters) {
    const value = parameters.get(name);
    if (value === null) continue;
    if (!/^[0-9]+$/.test(value) || Number(value) > max) {
      return { error: `${name} must be a decimal integer from 0 to ${max}` };
    }
    grouping ??= { ...kDefaultGrouping };
    grouping[name] = Number(value);
  }
  if (grouping !== undefined) result.ipGrouping = grouping;
  return result;
}

function reasonOf(error) {
  let text;
  try {
    text = String(error instanceof Error ? error.message : error);
  } catch {
    text = 'an unprintable error';
  }
  // One short line: the exporter logs it (docs/snapshot-protocol.md, "Response").
  const line = text.replace(/[\r\n]+/g, ' ');
  return line.length > kMaxReasonLength ? `${line.slice(0, kMaxReasonLength)}...` : line;
}

function textReply(status, text, extraHeaders = {}) {
  const body = `${text}\n`;
  return {
    status,
    headers: {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      ...extraHeaders,
    },
    chunks: [body],
    body,
  };
}
