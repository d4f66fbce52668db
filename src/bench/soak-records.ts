/**
 * The soak's record check: every request the caller saw answered must have
 * exactly one gateway record and exactly one worker record, joined by id.
 * Streams the three NDJSON files; holds one small integer per id.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

// Per id, packed in one number: bit 0 the caller saw an answer; 4 bits each
// (saturating at 15) for the caller's, the gateway's and the worker's records.
const ANSWERED = 1;
const CALLER = 1 << 1;
const GATEWAY = 1 << 5;
const WORKER = 1 << 9;
const count = (v: number, unit: number) => Math.floor(v / unit) % 16;

export interface Completeness {
  callerRecords: number;
  gatewayRecords: number;
  workerRecords: number;
  /** Requests the caller saw answered (any HTTP status). */
  answered: number;
  /** Of those, with exactly one gateway and exactly one worker record. */
  complete: number;
  completenessPct: number;
  missingGateway: number;
  duplicateGateway: number;
  missingWorker: number;
  duplicateWorker: number;
  /** Ids the caller used more than once (it must not). */
  duplicateCallerIds: number;
  /** Records whose id the caller never saw answered (e.g. it gave up waiting). */
  gatewayWithoutAnswer: number;
  workerWithoutAnswer: number;
  /** Up to 5 ids of incomplete requests, to look up. */
  examples: string[];
}

export interface Classes {
  /** HTTP status of answered requests, as the caller saw them. */
  callerStatus: Record<string, number>;
  /** Requests the caller saw fail without an answer, by class. */
  callerErrors: Record<string, number>;
  /** Error codes the gateway answered with. */
  gatewayErrors: Record<string, number>;
  /** Error codes the worker replied with. */
  workerErrors: Record<string, number>;
}

async function eachRecord(file: string, fn: (r: Record<string, unknown>) => void): Promise<number> {
  let n = 0;
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.length === 0) continue;
    fn(JSON.parse(line) as Record<string, unknown>);
    n++;
  }
  return n;
}

const bump = (m: Record<string, number>, k: string) => {
  m[k] = (m[k] ?? 0) + 1;
};

export async function checkRecords(files: { caller: string; gateway: string; worker: string }): Promise<{ completeness: Completeness; classes: Classes }> {
  const ids = new Map<string, number>();
  const add = (id: unknown, unit: number, extra = 0) => {
    const key = String(id);
    const v = ids.get(key) ?? 0;
    ids.set(key, (count(v, unit) < 15 ? v + unit : v) | extra);
  };
  const classes: Classes = { callerStatus: {}, callerErrors: {}, gatewayErrors: {}, workerErrors: {} };
  const callerRecords = await eachRecord(files.caller, (r) => {
    const answered = typeof r.status === 'number' && r.status > 0;
    add(r.id, CALLER, answered ? ANSWERED : 0);
    if (answered) bump(classes.callerStatus, String(r.status));
    else bump(classes.callerErrors, String(r.error ?? 'unknown'));
  });
  const gatewayRecords = await eachRecord(files.gateway, (r) => {
    add(r.id, GATEWAY);
    if (r.error !== null) bump(classes.gatewayErrors, String(r.error));
  });
  const workerRecords = await eachRecord(files.worker, (r) => {
    add(r.id, WORKER);
    if (r.error !== null) bump(classes.workerErrors, String(r.error));
  });

  const c: Completeness = {
    callerRecords,
    gatewayRecords,
    workerRecords,
    answered: 0,
    complete: 0,
    completenessPct: 0,
    missingGateway: 0,
    duplicateGateway: 0,
    missingWorker: 0,
    duplicateWorker: 0,
    duplicateCallerIds: 0,
    gatewayWithoutAnswer: 0,
    workerWithoutAnswer: 0,
    examples: [],
  };
  for (const [id, v] of ids) {
    const g = count(v, GATEWAY);
    const w = count(v, WORKER);
    if (count(v, CALLER) > 1) c.duplicateCallerIds++;
    if (!(v & ANSWERED)) {
      if (g > 0) c.gatewayWithoutAnswer++;
      if (w > 0) c.workerWithoutAnswer++;
      continue;
    }
    c.answered++;
    if (g === 0) c.missingGateway++;
    if (g > 1) c.duplicateGateway++;
    if (w === 0) c.missingWorker++;
    if (w > 1) c.duplicateWorker++;
    if (g === 1 && w === 1) c.complete++;
    else if (c.examples.length < 5) c.examples.push(id);
  }
  c.completenessPct = c.answered > 0 ? (c.complete / c.answered) * 100 : 0;
  return { completeness: c, classes };
}
