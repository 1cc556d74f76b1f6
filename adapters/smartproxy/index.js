// @smartproxy-exporter/adapter: serves protocol v1 snapshots (docs/snapshot-protocol.md) of a
// running SmartProxy on a Unix socket, for smartproxy_exporter. Zero dependencies.
import { makeIdentity } from './src/identity.js';
import { closeServer, createSnapshotServer } from './src/server.js';
import { clearStalePath, listenWithMode, removeOwnSocket, resolveGroup } from './src/socket.js';
import { detectApi } from './src/sources.js';

export { buildSnapshot, SnapshotError } from './src/snapshot.js';
export { ProxyGetterError, detectApi } from './src/sources.js';

export const defaultSocketPath = '/run/smartproxy/metrics.sock';

function defaultOnError(error) {
  console.error(`smartproxy-exporter adapter: ${error?.message ?? error}`);
}

/**
 * Starts serving GET /v1/snapshot for `proxy` on a Unix socket. Resolves to a handle whose
 * close() stops the server and removes the socket file. Rejects (and leaves nothing behind) when
 * the proxy has no metrics API, the path is not a socket, a live server owns it, or listen fails.
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
  const gid = options.group === undefined ? undefined : await resolveGroup(options.group);
  const onError = typeof options.onError === 'function' ? options.onError : defaultOnError;
  const identity = makeIdentity({ version: options.version, startTime: options.startTime });

  await clearStalePath(socketPath);
  const server = createSnapshotServer(proxy, {
    identity,
    countDistinctIPs: options.countDistinctIPs === true,
    onError,
  });
  const placed = await listenWithMode(server, socketPath, { mode, gid });

  let closing;
  return {
    path: socketPath,
    instance: identity.instance,
    close() {
      closing ??= (async () => {
        await closeServer(server);
        await removeOwnSocket(socketPath, placed);
      })();
      return closing;
    },
  };
}
