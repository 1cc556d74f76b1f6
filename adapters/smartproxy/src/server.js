// The HTTP server that answers snapshot requests. It lives inside the proxy's process, so nothing
// it does may throw into the proxy: every handler path is guarded and server errors are reported
// through onError instead of becoming an unhandled 'error' event (which would crash the process).
import http from 'node:http';
import { respondToRequest } from './respond.js';

/**
 * Returns an http.Server (not yet listening) that serves GET /v1/snapshot for `proxy`.
 * options: { identity, countDistinctIPs, onError(error) }.
 */
export function createSnapshotServer(proxy, { identity, countDistinctIPs = false, onError }) {
  const context = { proxy, identity, countDistinctIPs };
  const report = (error) => {
    try {
      onError(error);
    } catch {
      // A throwing error callback must not take the proxy down either.
    }
  };

  const server = http.createServer((request, response) => {
    try {
      // The body of a GET is not read; draining it lets keep-alive continue on this connection.
      request.resume();
      const reply = respondToRequest(request.method, request.url, context);
      response.writeHead(reply.status, reply.headers);
      response.end(reply.body);
    } catch (error) {
      report(error);
      response.destroy();
    }
  });
  server.on('error', report);
  // Without a listener Node answers malformed requests with 400 and closes; with one we keep that
  // behaviour and only make sure a socket error cannot escape.
  server.on('clientError', (error, socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  return server;
}

/** Stops accepting, ends idle keep-alive connections, and resolves once the server is closed. */
export function closeServer(server) {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    // Every reply is written synchronously, so no response can be cut off here; without this a
    // keep-alive exporter connection would hold close() open (Node 18 does not do it by itself).
    server.closeAllConnections?.();
  });
}
