/**
 * The inline watchdog's thread (see inline-watchdog.ts): polls the slot the
 * main thread writes around each synchronous inline call and, when one call
 * has held it past the limit, claims it and terminates the main thread's
 * JavaScript through the inspector, then wakes the main thread to answer it.
 */
import { Session } from 'node:inspector';
import { workerData, type MessagePort } from 'node:worker_threads';
import { IDLE, KILLING, type WatchdogData } from './inline-watchdog.js';

const { slot, limitMs, wake } = workerData as WatchdogData & { wake: MessagePort };
// Checked often enough that a call is stopped within a tenth of its limit past it.
const stepMs = Math.min(100, Math.max(5, Math.floor(limitMs / 10)));

let seen = IDLE;
let since = 0;
let stopping = false;

setInterval(() => {
  if (stopping) return;
  const id = Atomics.load(slot, 0);
  if (id <= IDLE) {
    seen = IDLE;
    return;
  }
  if (id !== seen) {
    seen = id;
    since = performance.now();
    return;
  }
  if (performance.now() - since < limitMs) return;
  // The claim: from here the main thread cannot leave the call unnoticed
  // (its own compare-exchange fails and it waits for the termination), so it
  // never lands in other code, where it would corrupt node's state.
  if (Atomics.compareExchange(slot, 0, id, KILLING) !== id) return;
  stopping = true;
  seen = IDLE;
  terminate(id);
}, stepMs);

function terminate(id: number): void {
  // A session of its own, connected only now: none stays open while nothing
  // loops (an open one makes node wait for it at exit). Node's inspector takes
  // several sessions, so a --inspect debugger attached meanwhile is no obstacle.
  let session: Session | null = null;
  const done = (err: Error | null) => {
    try {
      session?.disconnect();
    } catch {
      // already gone
    }
    stopping = false;
    if (err) {
      // Not terminated: the claim is withdrawn. A main thread waiting in
      // leave() carries on; one still looping is claimed again a limit later.
      Atomics.compareExchange(slot, 0, KILLING, id);
      return;
    }
    wake.postMessage(id);
  };
  try {
    session = new Session();
    session.connectToMainThread();
    session.post('Runtime.terminateExecution', (err) => done(err));
  } catch (err) {
    done(err as Error);
  }
}
