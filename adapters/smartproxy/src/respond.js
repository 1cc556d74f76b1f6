// HTTP semantics of protocol v1 without any I/O: request line in, status and body out. The
// proxy's getters are read here (snapshot.js, under one deadline); bench/ measures the cost.
import { buildSnapshot } from './snapshot.js';

const kSnapshotPath = '/v1/snapshot';
const kMaxReasonLength = 1024;

/**
 * Resolves to { status, headers, body } for one request; never rejects. A required field that
 * cannot be read becomes a 500 whose text/plain body names the getter.
 * context: { proxy, tracker (identity.js InstanceTracker), countDistinctIPs, deadlineMs, read,
 * signal (ends pending reads: the server is closing) }.
 */
export async function respondToRequest(method, url, context) {
  try {
    const target = parseTarget(url);
    if (target.path !== kSnapshotPath) return textReply(404, 'not found: only GET /v1/snapshot is served');
    if (method !== 'GET') return textReply(405, 'method not allowed: use GET', { Allow: 'GET' });
    const ipLimit = parseIpLimit(target.query);
    if (ipLimit === null) return textReply(400, 'bad request: ips must be a decimal integer >= 0');
    const { tracker } = context;
    const token = tracker?.begin();
    const snapshot = await buildSnapshot(context.proxy, {
      ipLimit,
      identity: tracker === undefined ? undefined : (built) => tracker.observe(token, built),
      countDistinctIPs: context.countDistinctIPs,
      deadlineMs: context.deadlineMs,
      read: context.read,
      signal: context.signal,
    });
    const body = JSON.stringify(snapshot);
    return {
      status: 200,
      headers: {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body),
        'Cache-Control': 'no-store',
      },
      body,
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

// undefined = no limit, null = malformed, else the limit. Other parameters are ignored so that a
// newer exporter can ask for more without breaking this adapter.
function parseIpLimit(query) {
  if (query === '') return undefined;
  const value = new URLSearchParams(query).get('ips');
  if (value === null) return undefined;
  if (!/^[0-9]+$/.test(value)) return null;
  return Number(value);
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
    body,
  };
}
