import type { IncomingMessage, ServerResponse } from 'node:http';
import { rawHeader } from './raw-headers.js';

/**
 * Bounds the bytes of request bodies in progress across the whole gateway.
 * Every adapter buffers an upload whole before calling the worker, so without
 * it a few hundred uploads stalled just short of --max-body-bytes hold
 * gigabytes. A request that declares a body reserves its declared length (a
 * chunked one, --max-body-bytes: the most it may grow to) until its response
 * closes; one that does not fit is refused before any framework reads a byte.
 * Reserving the declared size, not counting bytes as they come, keeps the
 * check in front of all five frameworks without touching their body streams.
 */
export class UploadBudget {
  private reserved = 0;

  constructor(
    readonly limitBytes: number,
    private readonly maxBodyBytes: number,
  ) {}

  /** Reserves room for the request's body; false when the budget cannot hold it. */
  admit(req: IncomingMessage, res: ServerResponse): boolean {
    const size = this.bodySize(req);
    // No body, or one the adapters refuse (413) from its declared length without reading it.
    if (size === 0 || size > this.maxBodyBytes) return true;
    if (this.reserved + size > this.limitBytes) return false;
    this.reserved += size;
    res.once('close', () => {
      this.reserved -= size;
    });
    return true;
  }

  /** Bytes reserved by requests in progress. */
  get inUse(): number {
    return this.reserved;
  }

  private bodySize(req: IncomingMessage): number {
    // From the raw lines: a request without a body is read without node building its headers object (raw-headers.ts).
    const raw = req.rawHeaders;
    if (rawHeader(raw, 'transfer-encoding') !== undefined) return this.maxBodyBytes;
    const declared = Number(rawHeader(raw, 'content-length', true) ?? 0);
    return Number.isFinite(declared) && declared > 0 ? declared : 0;
  }
}
