/**
 * W3C trace context for calls that make calls: every hop of a request shares
 * the root's trace id, and each hop's span id is derived from its request id,
 * so the worker (which sends a `traceparent` on a nested call through a
 * gateway) and `analyze --otlp` (which rebuilds the tree from the records)
 * name the same spans without writing span ids anywhere.
 */
import { createHash } from 'node:crypto';

const HEX32 = /^[0-9a-f]{32}$/;

/** A request's trace id when it came with none: its id when that is one, else derived from it. */
export function traceIdFor(id: string): string {
  return HEX32.test(id) ? id : createHash('sha256').update(id).digest('hex').slice(0, 32);
}

/** The span id of the worker's span of call `id` in trace `traceId` (16 hex digits, never all zero). */
export function workerSpanIdFor(traceId: string, id: string): string {
  return `${createHash('sha256').update(`${traceId} ${id}`).digest('hex').slice(0, 14)}06`;
}

/** The `traceparent` of a nested call made by call `parentId` (sampled). */
export function traceparentFor(traceId: string, parentId: string): string {
  return `00-${traceId}-${workerSpanIdFor(traceId, parentId)}-01`;
}
