/**
 * Nested calls over the RPC link: the worker is a client of a worker (its
 * own address by default, or --call-worker), as a gateway is, and the call
 * frame carries the nesting. The callee's worker writes its record.
 */
import type { Nesting } from '../../contract/composition.js';
import type { Logger } from '../../log.js';
import { RpcClient, type CallResult } from '../../rpc/client.js';
import type { Answer, Transport } from './composer.js';

export class RpcTransport implements Transport {
  readonly mode = 'rpc' as const;
  private client: RpcClient | null = null;

  /** `workers()`: the addresses to call, known once the worker listens (its own, by default). */
  constructor(
    private readonly options: { workers: () => string[]; logger: Logger; timeoutMs: number; secret?: string },
  ) {}

  call(id: string, fn: string, args: Record<string, unknown>, traceId: string, nesting: Nesting): Promise<Answer> {
    // Connected on the first call: the worker's own address is known only once it listens.
    // Results as values: the parent function consumes them (a client's default is the answer's bytes, for gateways).
    this.client ??= new RpcClient({ workers: this.options.workers(), logger: this.options.logger, timeoutMs: this.options.timeoutMs, secret: this.options.secret, results: 'value' });
    const client = this.client;
    return ready(client).then(() => client.call(id, fn, args, traceId, nesting)).then(answerOfResult);
  }

  close(): void {
    this.client?.close();
  }
}

/** The first calls wait for a connection instead of failing while it comes up. */
function ready(client: RpcClient): Promise<void> {
  return client.readyCount > 0 ? Promise.resolve() : client.whenAnyReady();
}

function answerOfResult(r: CallResult): Answer {
  if (!r.ok) return { ok: false, code: r.code, message: r.message };
  if (r.reply.err) return { ok: false, code: r.reply.err.code, message: r.reply.err.message };
  return { ok: true, value: r.reply.result ?? null };
}
