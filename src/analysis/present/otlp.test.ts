/**
 * `faasbench analyze --otlp`: records of three hosts whose clocks are hours
 * apart (one beyond 2^53 ns) become traces that the OTLP transformer encodes
 * identically, with exact one-host durations and every child inside its parent.
 */
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_DURATIONS, requestLines, trueStamps, writeRecordDir, type Durations } from '../../testing/analysis-records.js';
import { assertOfficialOtlp } from '../../testing/otlp.js';
import { runCli } from '../../testing/processes.js';

type Span = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SYMMETRIC: Partial<Durations> = { net_in: 50_000n, net_out: 50_000n, rpc_out: 20_000n, rpc_back: 20_000n };
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';

test('analyze --otlp: one span per role, child spans per stage, exact across hosts, as the OTLP transformer encodes it', async () => {
  const specs = [
    { id: 'r1', at: 1_000_000n, d: SYMMETRIC },
    { id: 'r2', at: 5_000_000n },
    { id: 'r3', at: 9_000_000n, fn: 'math' },
  ];
  const lines = specs.map((s) => requestLines(s));
  // r2's caller sent a traceparent: its trace id is the trace's.
  lines[1]!.caller = lines[1]!.caller.replace(/}$/, `,"trace_id":"${TRACE_ID}"}`);
  const dir = await writeRecordDir({ caller: lines.map((l) => l.caller), gateway: lines.map((l) => l.gateway), worker: lines.map((l) => l.worker) });
  try {
    const file = join(dir, 'traces.json');
    const r = await runCli(['analyze', dir, '--otlp', file, '--no-csv'], { timeoutMs: 180_000 });
    assert.equal(r.code, 0, r.stderr);
    const otlp = assertOfficialOtlp(await readFile(file, 'utf8'));

    const services = (otlp.resourceSpans as Span[]).map((rs) => rs.resource.attributes.find((a: Span) => a.key === 'service.name').value.stringValue);
    assert.deepEqual(services.sort(), ['faasbench-caller', 'faasbench-gateway', 'faasbench-worker']);
    const spans: Span[] = (otlp.resourceSpans as Span[]).flatMap((rs) => rs.scopeSpans.flatMap((ss: Span) => ss.spans));
    const byTrace = new Map<string, Span[]>();
    for (const s of spans) byTrace.set(s.traceId as string, [...(byTrace.get(s.traceId as string) ?? []), s]);
    assert.equal(byTrace.size, 3);
    assert.ok(byTrace.has(TRACE_ID), 'the trace id of the record');

    const ns = (s: Span, k: 'startTimeUnixNano' | 'endTimeUnixNano') => BigInt(s[k]);
    const dur = (s: Span) => ns(s, 'endTimeUnixNano') - ns(s, 'startTimeUnixNano');
    for (const [traceId, trace] of byTrace) {
      assert.match(traceId, /^[0-9a-f]{32}$/);
      assert.equal(trace.length, 9, 'caller; gateway, gateway in, RPC call, respond; worker, worker queue, function, worker out');
      const named = (name: string) => trace.find((s) => s.name === name)!;
      const root = trace.find((s) => s.parentSpanId === undefined)!;
      const gateway = trace.find((s) => s.parentSpanId === root.spanId)!;
      const rpc = named('RPC call');
      const worker = trace.find((s) => s.parentSpanId === rpc.spanId)!;
      assert.equal(new Set(trace.map((s) => s.spanId)).size, 9);
      for (const s of trace.filter((x) => x !== root)) {
        const parent = trace.find((p) => p.spanId === s.parentSpanId);
        assert.ok(parent, `${s.name} has its parent in the trace`);
        assert.ok(ns(s, 'startTimeUnixNano') >= ns(parent, 'startTimeUnixNano') && ns(s, 'endTimeUnixNano') <= ns(parent, 'endTimeUnixNano'), `${s.name} inside ${parent.name}`);
      }
      const spec = specs.find((s) => traceId === TRACE_ID ? s.id === 'r2' : root.attributes.some((a: Span) => a.value.stringValue === s.id))!;
      const d = { ...DEFAULT_DURATIONS, ...spec.d };
      const t = trueStamps(0n, spec.d);
      assert.equal(dur(root), t.t6 - t.t0);
      assert.equal(dur(gateway), t.t5 - t.t1);
      assert.equal(dur(named('gateway in')), d.gateway_in);
      assert.equal(dur(rpc), t.t4 - t.t2);
      assert.equal(dur(named('respond')), d.respond);
      assert.equal(dur(worker), t.t3_send - t.t3_recv);
      assert.equal(dur(named('worker queue')), d.worker_queue);
      assert.equal(dur(named('function')), d.function);
      assert.equal(dur(named('worker out')), d.worker_out);
      if (spec.id === 'r1') {
        // Symmetric legs: the NTP midpoint is the true offset, so the placement is exact too.
        assert.equal(ns(gateway, 'startTimeUnixNano') - ns(root, 'startTimeUnixNano'), d.net_in);
        assert.equal(ns(worker, 'startTimeUnixNano') - ns(rpc, 'startTimeUnixNano'), d.rpc_out);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
