/**
 * Test support: checks an OTLP/JSON export against @opentelemetry/otlp-transformer,
 * the OpenTelemetry JS exporters' own encoder of the OTLP protobuf mapping.
 * The export is read back into the SDK's span shape by the OTLP field names
 * and encoded again by the transformer: the two must be equal, so a field
 * misnamed, mistyped (ids, nanos as strings, enum numbers, attribute
 * values) or missing in the export shows as a difference.
 */
import assert from 'node:assert/strict';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const hrTime = (nanos: unknown): [number, number] => {
  assert.equal(typeof nanos, 'string', 'fixed64 nanos are strings in OTLP/JSON');
  const ns = BigInt(nanos as string);
  return [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
};

function attributeObject(kvs: Json[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of kvs) {
    const v = kv.value as Json;
    out[kv.key as string] = v.stringValue ?? v.intValue ?? v.doubleValue ?? v.boolValue;
  }
  return out;
}

/** The export's spans as the SDK's ReadableSpans, one resource object per resourceSpans entry. */
function readableSpans(request: Json): unknown[] {
  const spans: unknown[] = [];
  for (const rs of request.resourceSpans as Json[]) {
    const resource = { attributes: attributeObject(rs.resource.attributes), schemaUrl: rs.schemaUrl };
    for (const ss of rs.scopeSpans as Json[]) {
      for (const s of ss.spans as Json[]) {
        // The transformer copies these through as it finds them: the proto's types are checked here.
        assert.ok([0, 1, 2].includes(s.status?.code), `status.code is a StatusCode enum number: ${JSON.stringify(s.status)}`);
        assert.ok(s.status.message === undefined || typeof s.status.message === 'string');
        spans.push({
          name: s.name,
          kind: s.kind - 1,
          spanContext: () => ({ traceId: s.traceId, spanId: s.spanId, traceFlags: s.flags & 0xff }),
          parentSpanContext: s.parentSpanId === undefined ? undefined : { traceId: s.traceId, spanId: s.parentSpanId, traceFlags: 1, isRemote: false },
          startTime: hrTime(s.startTimeUnixNano),
          endTime: hrTime(s.endTimeUnixNano),
          status: s.status,
          attributes: attributeObject(s.attributes),
          links: [],
          events: [],
          duration: [0, 0],
          ended: true,
          resource,
          instrumentationScope: ss.scope,
          // An SDK span always has these counts: one missing from the export is a difference.
          droppedAttributesCount: s.droppedAttributesCount ?? 0,
          droppedEventsCount: s.droppedEventsCount ?? 0,
          droppedLinksCount: s.droppedLinksCount ?? 0,
        });
      }
    }
  }
  return spans;
}

/** Asserts that `text` is the OTLP/JSON encoding the transformer gives for the same spans, and that it encodes as protobuf. */
export function assertOfficialOtlp(text: string): Json {
  const ours = JSON.parse(text) as Json;
  const spans = readableSpans(ours);
  const official = JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans as never))) as Json;
  assert.deepStrictEqual(ours, official);
  const proto = ProtobufTraceSerializer.serializeRequest(spans as never);
  assert.ok(proto && proto.length > 0, 'encodes as an OTLP protobuf ExportTraceServiceRequest');
  return ours;
}
