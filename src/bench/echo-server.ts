/**
 * The baseline for the RPC link benchmark: the least a msgpack-framed TCP
 * echo can do. It decodes each call, encodes a reply and answers everything
 * decoded from one chunk in one write. Run as a child process.
 * With `raw`, it sends back every chunk as it came: the far end of the
 * gateway benchmark's bare proxy (hello-servers.ts).
 */
import { createServer } from 'node:net';
import { decodeMessage, encodeMessage } from '../rpc/codec.js';
import { FrameDecoder } from '../rpc/framing.js';

const raw = process.argv[2] === 'raw';
const server = createServer({ noDelay: true }, (socket) => {
  if (raw) {
    socket.on('data', (chunk: Buffer) => socket.write(chunk));
    socket.on('error', () => socket.destroy());
    return;
  }
  const decoder = new FrameDecoder();
  socket.on('data', (chunk: Buffer) => {
    const replies: Buffer[] = [];
    for (const body of decoder.push(chunk)) {
      const m = decodeMessage(body);
      if (m.t === 'call') replies.push(encodeMessage({ t: 'reply', cid: m.cid, result: {}, t3_recv: 0n, t3_start: 0n, t3_end: 0n, t3_send: 0n }));
    }
    if (replies.length > 0) socket.write(replies.length === 1 ? replies[0]! : Buffer.concat(replies));
  });
  socket.on('error', () => socket.destroy());
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.once('SIGTERM', () => process.exit(0));
