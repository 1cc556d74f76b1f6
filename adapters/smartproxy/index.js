// @smartproxy-exporter/adapter: serves protocol v1 (1.1) snapshots (docs/snapshot-protocol.md) of
// a running SmartProxy on a Unix socket, for smartproxy_exporter. Zero dependencies.
import { InstanceTracker } from './src/identity.js';
import { kDefaultDeadlineMs } from './src/read.js';
import { closeServer, createSnapshotServer } from './src/server.js';
import { checkReadOverrides } from './src/snapshot.js';
import { clearStalePath, listenWithMode, removeOwnSocket, resolveGroup } from './src/socket.js';
import { detectApi } from './src/sources.js';

export { buildSnapshot, kReadGroups, SnapshotError } from './src/snapshot.js';
export { ProxyGetterError, detectApi } from './src/sources.js';

export const defaultSocketPath = '/run/smartproxy/metrics.sock';
export const defaultDeadlineMs = kDefaultDeadlineMs;

// setTimeout's largest delay; a longer deadline would fire at once.
const kMaxDeadlineMs = 2 ** 31 - 1;

function defaultOnError(error) {
  console.error(`smartproxy-exporter adapter: ${error?.message ?? error}`);
}

function defaultOnWarning(message) {
  console.warn(`smartproxy-exporter adapter: ${message}`);
}

/**
 * Starts serving GET /v1/snapshot for `proxy` on a Unix socket. Resolves to a handle whose
 * close() stops the server and removes the socket file. Rejects (and leaves nothing behind) when
 * the proxy has no metrics API, an option is invalid, the path is not a socket, a live server owns
 * it, or listen fails.
 */
export async function serveSnapshots(proxy, options = {}) {
  if (detectApi(proxy) === undefined) {
    throw new TypeError('serveSnapshots: the proxy has neither getMetrics() nor getStats()');
  }
  const socketPath = options.path ?? defaultSocketPath;
  if (typeof socketPath !== 'string' || socketPath === '') {
    throw new TypeError('serveSnapshots: path must be a non-empty string');
  }
  const mode = options.mode ?? 0o660;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
    throw new TypeError('serveSnapshots: mode must be an integer permission mode like 0o660');
  }
  const deadlineMs = options.deadlineMs ?? kDefaultDeadlineMs;
  if (typeof deadlineMs !== 'number' || !(deadlineMs > 0) || deadlineMs > kMaxDeadlineMs) {
    throw new TypeError('serveSnapshots: deadlineMs must be a number of milliseconds > 0');
  }
  let read;
  try {
    read = checkReadOverrides(options.read);
  } catch (error) {
    throw new TypeError(`serveSnapshots: ${error.message}`);
  }
  const gid = options.group === undefined ? undefined : await resolveGroup(options.group);
  const onError = typeof options.onError === 'function' ? options.onError : defaultOnError;
  const onWarning = typeof options.onWarning === 'function' ? options.onWarning : defaultOnWarning;
  const tracker = new InstanceTracker({
    version: options.version,
    startTime: options.startTime,
    onRestart: onWarning,
  });

  await clearStalePath(socketPath);
  const server = createSnapshotServer(proxy, {
    tracker,
    countDistinctIPs: options.countDistinctIPs === true,
    deadlineMs,
    read: { ...read },
    onError,
  });
  const placed = await listenWithMode(server, socketPath, { mode, gid });

  let closing;
  return {
    path: socketPath,
    get instance() {
      return tracker.identity.instance;
    },
    close() {
      closing ??= (async () => {
        await closeServer(server);
        await removeOwnSocket(socketPath, placed);
      })();
      return closing;
    },
  };
}
