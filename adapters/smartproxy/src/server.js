// The HTTP server that answers snapshot requests. It lives inside the proxy's process, so nothing
// it does may throw into the proxy: every handler path is guarded and server errors are reported
// through onError instead of becoming an unhandled 'error' event (which would crash the process).
import http from 'node:http';
import { respondToRequest } from './respond.js';

/**
 * Returns an http.Server (not yet listening) that serves GET /v1/snapshot for `proxy`.
 * options: { tracker, countDistinctIPs, deadlineMs, read, onError(error) }.
 */
export function createSnapshotServer(proxy, { tracker, countDistinctIPs = false, deadlineMs, read, onError }) {
  // Closing the server ends the reads still waiting for the proxy: nothing outlives close().
  const closing = new AbortController();
  const context = { proxy, tracker, countDistinctIPs, deadlineMs, read, signal: closing.signal };
  const report = (error) => {
    try {
      onError(error);
    } catch {
      // A throwing error callback must not take the proxy down either.
    }
  };
  const fail = (response, error) => {
    report(error);
    try {
      response.destroy();
    } catch {
      // Nothing more to do for this connection.
    }
  };

  // The reply comes after the proxy's getters answered (or the deadline passed); the exporter may
  // have hung up meanwhile, and a server being closed may have cut the connection.
  const handle = async (request, response) => {
    try {
      // The body of a GET is not read; draining it lets keep-alive continue on this connection.
      request.resume();
      // An exporter that hangs up before the reply is not an error of the proxy's.
      response.on('error', () => {});
      const reply = await respondToRequest(request.method, request.url, context);
      if (response.destroyed || response.writableEnded) return;
      response.writeHead(reply.status, reply.headers);
      response.end(reply.body);
    } catch (error) {
      fail(response, error);
    }
  };
  const server = http.createServer((request, response) => {
    handle(request, response).catch(() => {});
  });
  server.once('close', () => closing.abort());
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
    // Without this a keep-alive exporter connection would hold close() open (Node 18 does not do
    // it by itself). A snapshot still waiting for the proxy's getters is cut: the exporter counts
    // one failed fetch, and the reply written later finds its connection gone (handled above).
    server.closeAllConnections?.();
  });
}
