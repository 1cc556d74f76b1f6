// Test helpers: HTTP over a Unix socket, and fresh temp directories with short paths.
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

/** GET (or another method) on a Unix socket; resolves to { status, headers, body, reusedSocket }. */
export function request(socketPath, urlPath, { method = 'GET', agent } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: urlPath, method, agent }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({
        status: res.statusCode,
        headers: res.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        reusedSocket: req.reusedSocket,
      }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** GET and parse a 200 JSON snapshot, failing with the body otherwise. */
export async function getSnapshot(socketPath, urlPath = '/v1/snapshot') {
  const reply = await request(socketPath, urlPath);
  if (reply.status !== 200) throw new Error(`status ${reply.status}: ${reply.body}`);
  return JSON.parse(reply.body);
}

/** A fresh temp directory (short path, Unix sockets have a 107-byte limit) and its cleanup. */
export async function makeTempDir() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'spa-'));
  return { dir, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
}
