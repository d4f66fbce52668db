// The containers' health check, without a request (an HTTP probe would leave
// records no caller made):
//
//   node healthcheck.mjs PORT [UPSTREAM_PORT]
//
// Healthy (exit 0) when 127.0.0.1:PORT accepts a TCP connection and, given
// UPSTREAM_PORT, a process of this container holds an established TCP
// connection to that port: a gateway answers 502 until its worker link is up.
import { connect } from 'node:net';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

const [port, upstream] = process.argv.slice(2).map(Number);

// Socket inodes of the established connections to the port, from /proc/net.
function establishedTo(remotePort) {
  const hex = `:${remotePort.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // cols[2] remote address, cols[3] state (01: established), cols[9] inode.
      if (cols.length > 9 && cols[2].endsWith(hex) && cols[3] === '01') inodes.add(cols[9]);
    }
  }
  return inodes;
}

// Whether a process we can see (this container's) owns one of them: the
// gateways share a network namespace, so /proc/net alone would show the
// other gateways' links too.
function linked(remotePort) {
  const inodes = establishedTo(remotePort);
  if (inodes.size === 0) return false;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let fds = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1])) return true;
      } catch {
        // The fd closed meanwhile.
      }
    }
  }
  return false;
}

if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node healthcheck.mjs PORT [UPSTREAM_PORT]');
  process.exit(2);
}
const socket = connect(port, '127.0.0.1');
socket.on('connect', () => {
  socket.destroy();
  process.exit(upstream && !linked(upstream) ? 1 : 0);
});
socket.on('error', () => process.exit(1));
setTimeout(() => process.exit(1), 1500).unref();
