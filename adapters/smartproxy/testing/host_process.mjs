// A stand-in for a SmartProxy host process, run by test/host_process.test.mjs as a separate Node
// process: it serves its own HTTP traffic on one Unix socket and the adapter on another, over a
// proxy whose getters throw, reject, hang or reject late, as the parent asks (GET /mode/<name>
// on the own socket). Started with --unhandled-rejections=strict: one unhandled rejection and the
// process exits, which the parent would see.
//   node host_process.mjs <own socket> <metrics socket> <deadline ms>
import http from 'node:http';
import { serveSnapshots } from '../index.js';

const [ownSocket, metricsSocket, deadlineText] = process.argv.slice(2);
const deadlineMs = Number(deadlineText);
let mode = 'ok';

const never = () => new Promise(() => {});
// Rejects well after the adapter's deadline: the adapter has stopped waiting by then.
const rejectLate = (what) => new Promise((_, reject) => {
  setTimeout(() => reject(new Error(`${what} rejected late`)), deadlineMs * 3);
});

function activeConnections() {
  switch (mode) {
    case 'throw': throw new Error('active threw');
    case 'reject': return Promise.reject(new Error('active rejected'));
    case 'hang': return never();
    case 'late': return rejectLate('active');
    default: return 3;
  }
}

const optionalFails = () => mode === 'optional';
const metrics = {
  connections: { active: activeConnections, total: () => 10 },
  requests: { total: () => (optionalFails() ? Promise.reject(new Error('requests gone')) : 5) },
  throughput: {
    instant: () => {
      if (optionalFails()) throw new Error('instant threw');
      return { in: 1, out: 2 };
    },
    recent: () => (optionalFails() ? never() : { in: 1, out: 2 }),
  },
  backends: { byBackend: () => (optionalFails() ? rejectLate('backends') : { b: { total: 1 } }) },
};
const proxy = {
  getMetrics: () => (mode === 'root' ? Promise.reject(new Error('metrics not started')) : metrics),
};

let served = 0;
const own = http.createServer((request, response) => {
  if (request.url.startsWith('/mode/')) {
    mode = request.url.slice('/mode/'.length);
    response.end(`mode ${mode}\n`);
    return;
  }
  served += 1;
  response.end(`hello ${served}\n`);
});

own.listen(ownSocket, async () => {
  const handle = await serveSnapshots(proxy, { path: metricsSocket, mode: 0o600, deadlineMs });
  process.once('SIGTERM', async () => {
    await handle.close();
    own.close(() => process.exit(0));
    own.closeAllConnections();
  });
  process.stdout.write('ready\n');
});
