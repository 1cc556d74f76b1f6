// The proxy's upstream: a minimal HTTP/1.1 responder on loopback (node:net, no http parser), so
// that the proxy, not the backend, is where the CPU goes. Every request (one "\r\n\r\n"-terminated
// head; wrk's GETs have no body) gets the same canned 200 with keep-alive.
//
//   node backend.mjs [--port 0] [--body-bytes 128]     prints "listening <port>" on stdout
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '0' }, 'body-bytes': { type: 'string', default: '128' } },
});
const body = 'x'.repeat(Number(values['body-bytes']));
const response = Buffer.from(
  `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n` +
  `Connection: keep-alive\r\n\r\n${body}`);
const kTerminator = Buffer.from('\r\n\r\n');

const server = net.createServer({ noDelay: true }, (socket) => {
  let carry = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    const data = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    let from = 0;
    let replies = 0;
    for (let at = data.indexOf(kTerminator, from); at !== -1; at = data.indexOf(kTerminator, from)) {
      replies += 1;
      from = at + kTerminator.length;
    }
    carry = from < data.length ? data.subarray(from) : Buffer.alloc(0);
    if (replies === 1) socket.write(response);
    else if (replies > 1) socket.write(Buffer.concat(Array(replies).fill(response)));
    // A client that asked to close (wrk with "Connection: close" sends it in its head).
    if (replies > 0 && data.includes('Connection: close')) socket.end();
  });
  socket.on('error', () => socket.destroy());
});
server.listen(Number(values.port), '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
