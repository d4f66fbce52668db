/**
 * A small incremental HTTP/1.1 response parser for the caller's own client.
 *
 * Why not node:http: its ClientRequest/IncomingMessage machinery costs several
 * times more CPU per request than the bare socket, and on a 2-core machine the
 * caller's CPU is taken from the server it measures. Why not autocannon's
 * client: it does not expose per-request stamps or failures (see
 * connection.ts). We only need what a load generator needs: the status, the
 * end of the message (Content-Length, chunked, or close-delimited), whether
 * the connection stays open, and the byte count. No pipelining, so any byte
 * after the end of a response is a protocol error.
 */
export class ParseError extends Error {
  override name = 'ParseError';
}

const HEAD = 0;
const BODY = 1;
const CHUNK_SIZE = 2;
const CHUNK_DATA = 3;
const CHUNK_END = 4;
const TRAILERS = 5;
const UNTIL_CLOSE = 6;
const DONE = 7;

const MAX_HEAD = 64 * 1024;
const MAX_LINE = 4096;
const HEAD_END = Buffer.from('\r\n\r\n');

export class ResponseParser {
  status = 0;
  bytes = 0;
  keepAlive = true;
  private state = DONE;
  private expectBody = true;
  private remaining = 0;
  private partialHead: Buffer | null = null;
  private line = '';

  /** Arms the parser for the response to the next request. */
  reset(expectBody: boolean): void {
    this.status = 0;
    this.bytes = 0;
    this.keepAlive = true;
    this.state = HEAD;
    this.expectBody = expectBody;
    this.remaining = 0;
    this.partialHead = null;
    this.line = '';
  }

  /** True when the response is complete. Throws ParseError on malformed input. */
  execute(buf: Buffer): boolean {
    if (this.state === DONE) throw new ParseError('data received with no request outstanding');
    this.bytes += buf.length;
    let pos = 0;
    while (pos < buf.length) {
      switch (this.state) {
        case HEAD:
          pos = this.readHead(buf, pos);
          break;
        case BODY:
        case CHUNK_DATA: {
          const take = Math.min(this.remaining, buf.length - pos);
          pos += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = this.state === BODY ? DONE : CHUNK_END;
          break;
        }
        case CHUNK_SIZE:
        case CHUNK_END:
        case TRAILERS: {
          const nl = buf.indexOf(10, pos);
          if (nl < 0) {
            this.line += buf.toString('latin1', pos, buf.length);
            if (this.line.length > MAX_LINE) throw new ParseError('chunk line too long');
            return false;
          }
          const line = this.line + buf.toString('latin1', pos, nl);
          this.line = '';
          pos = nl + 1;
          this.chunkLine(line.endsWith('\r') ? line.slice(0, -1) : line);
          break;
        }
        case UNTIL_CLOSE:
          return false;
        case DONE:
          throw new ParseError('unexpected data after the response');
      }
    }
    return this.state === DONE;
  }

  /** The peer closed: true if that ends a close-delimited body. */
  endOfStream(): boolean {
    if (this.state !== UNTIL_CLOSE) return false;
    this.state = DONE;
    return true;
  }

  private readHead(buf: Buffer, pos: number): number {
    const partial = this.partialHead;
    const data = partial === null ? buf : Buffer.concat([partial, buf.subarray(pos)]);
    const from = partial === null ? pos : 0;
    const end = data.indexOf(HEAD_END, partial === null ? pos : Math.max(0, partial.length - 3));
    if (end < 0) {
      if (data.length - from > MAX_HEAD) throw new ParseError('response head too large');
      this.partialHead = Buffer.from(data.subarray(from));
      return buf.length;
    }
    this.partialHead = null;
    this.parseHead(data.toString('latin1', from, end));
    const consumed = end + 4 - from;
    return partial === null ? pos + consumed : pos + consumed - partial.length;
  }

  private parseHead(head: string): void {
    const lines = head.split('\r\n');
    const statusLine = lines[0] ?? '';
    // "HTTP/1.x NNN reason"
    if (!statusLine.startsWith('HTTP/1.') || statusLine.charCodeAt(8) !== 32) {
      throw new ParseError('bad status line');
    }
    const status = Number(statusLine.slice(9, 12));
    if (!(status >= 100 && status <= 999) || !/^\d{3}$/.test(statusLine.slice(9, 12))) {
      throw new ParseError('bad status code');
    }
    let keepAlive = statusLine[7] === '1';
    let length = -1;
    let chunked = false;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new ParseError('bad header line');
      // Only three headers matter; test the length before lowercasing.
      if (colon !== 14 && colon !== 17 && colon !== 10) continue;
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim().toLowerCase();
      if (name === 'content-length') {
        if (!/^\d{1,15}$/.test(value) || (length >= 0 && Number(value) !== length)) {
          throw new ParseError('bad content-length');
        }
        length = Number(value);
      } else if (name === 'transfer-encoding') {
        chunked = value.endsWith('chunked');
      } else if (name === 'connection') {
        if (value.includes('close')) keepAlive = false;
        else if (value.includes('keep-alive')) keepAlive = true;
      }
    }
    if (status < 200) {
      if (status === 101) throw new ParseError('protocol switch not supported');
      return; // an interim response (100 Continue, 103 Early Hints): the real one follows
    }
    this.status = status;
    this.keepAlive = keepAlive;
    if (!this.expectBody || status === 204 || status === 304) this.state = DONE;
    else if (chunked) this.state = CHUNK_SIZE;
    else if (length > 0) {
      this.state = BODY;
      this.remaining = length;
    } else if (length === 0) this.state = DONE;
    else {
      this.state = UNTIL_CLOSE;
      this.keepAlive = false;
    }
  }

  private chunkLine(line: string): void {
    if (this.state === CHUNK_END) {
      if (line !== '') throw new ParseError('missing CRLF after chunk');
      this.state = CHUNK_SIZE;
    } else if (this.state === TRAILERS) {
      if (line === '') this.state = DONE;
    } else {
      const semi = line.indexOf(';');
      const hex = (semi < 0 ? line : line.slice(0, semi)).trim();
      if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw new ParseError('bad chunk size');
      const size = parseInt(hex, 16);
      if (size === 0) this.state = TRAILERS;
      else {
        this.state = CHUNK_DATA;
        this.remaining = size;
      }
    }
  }
}
