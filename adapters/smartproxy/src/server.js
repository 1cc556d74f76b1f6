// The HTTP server that answers snapshot requests. It lives inside the proxy's process, so nothing
// it does may throw into the proxy: every handler path is guarded and server errors are reported
// through onError instead of becoming an unhandled 'error' event (which would crash the process).
import http from 'node:http';
import { respondToRequest } from './respond.js';
import { SliceAbortError, Slicer } from './slices.js';

/**
 * Returns an http.Server (not yet listening) that serves GET /v1/snapshot for `proxy`.
 * options: { tracker, countDistinctIPs, deadlineMs, read, onError(error) }.
 */
export function createSnapshotServer(proxy, { tracker, countDistinctIPs = false, deadlineMs, read, onError }) {
  // Closing the server ends the reads still waiting for the proxy: nothing outlives close().
  const closing = new AbortController();
  const context = { proxy, tracker, countDistinctIPs, deadlineMs, read };
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
  // have hung up meanwhile, and a server being closed may have cut the connection. Either ends
  // this request's work at its next slice (an aborted request costs no further CPU).
  const handle = async (request, response) => {
    const aborted = new AbortController();
    const abort = () => aborted.abort();
    if (closing.signal.aborted) abort();
    closing.signal.addEventListener('abort', abort, { once: true });
    response.once('close', abort);
    try {
      // The body of a GET is not read; draining it lets keep-alive continue on this connection.
      request.resume();
      // An exporter that hangs up before the reply is not an error of the proxy's.
      response.on('error', () => {});
      const slicer = new Slicer({ signal: aborted.signal });
      const reply = await respondToRequest(request.method, request.url,
        { ...context, signal: aborted.signal, slicer });
      if (response.destroyed || response.writableEnded) return;
      response.writeHead(reply.status, reply.headers);
      await writeChunks(response, reply.chunks, slicer);
      slicer.finish();
    } catch (error) {
      // An aborted request is the exporter hanging up or the server closing, not an error.
      if (error instanceof SliceAbortError) response.destroy();
      else fail(response, error);
    } finally {
      closing.signal.removeEventListener('abort', abort);
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

// The body a chunk per slice: encoding 5 MB of JSON to UTF-8 in one write would block as long
// as building it. Waits for 'drain' when the exporter reads more slowly than we write.
async function writeChunks(response, chunks, slicer) {
  for (let i = 0; i < chunks.length; i += 1) {
    if (response.destroyed) return;
    const flowing = response.write(chunks[i]);
    if (i + 1 === chunks.length) break;
    if (!flowing) await slicer.waitFor(drained(response));
    else if (slicer.due()) await slicer.yield();
  }
  if (!response.destroyed) response.end();
}

function drained(response) {
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
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
