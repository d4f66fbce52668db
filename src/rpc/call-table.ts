/**
 * The calls in flight on one connection, by call id. Call ids are handed out
 * in sequence, so a call's id modulo a power of two is its slot in a fixed
 * array: adding and taking are an index each, with no hashing. A call whose
 * slot is still held by a much older one (a slow call while SLOTS later ones
 * came and went) goes to a Map beside it, the rare path. Not a Map for all:
 * with a Map here, the gateway under load promoted about 1.1 MB of young
 * objects at every scavenge, whole requests that had long been answered, and
 * scavenging took 3–4× as long (30,000 requests on /empty at 50 connections:
 * 127–169 ms against 31–50 ms, nothing promoted). A plain object keyed by id
 * (V8's dictionary elements) did not promote, but its insert and delete cost
 * 0.4 µs each per call in the gateway's profile.
 */
const SLOTS = 4096;
const MASK = SLOTS - 1;

export class CallTable<T> {
  /** The id in each slot; 0 (never a call id) when empty. */
  private readonly ids = new Float64Array(SLOTS);
  private readonly calls: (T | undefined)[] = new Array<T | undefined>(SLOTS).fill(undefined);
  /** Calls whose slot was taken when they were added. */
  private readonly overflow = new Map<number, T>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(cid: number, call: T): void {
    const slot = cid & MASK;
    const held = this.ids[slot];
    if (held === cid) {
      this.calls[slot] = call;
      return;
    }
    if (held === 0 && (this.overflow.size === 0 || !this.overflow.has(cid))) {
      this.ids[slot] = cid;
      this.calls[slot] = call;
      this.count++;
      return;
    }
    if (!this.overflow.has(cid)) this.count++;
    this.overflow.set(cid, call);
  }

  /** Removes a call and returns it, or undefined when it is not in flight. */
  take(cid: number): T | undefined {
    const slot = cid & MASK;
    // 0 marks an empty slot: a reply naming cid 0 (no call has it) must not take one.
    if (this.ids[slot] === cid && cid !== 0) {
      const call = this.calls[slot];
      this.ids[slot] = 0;
      this.calls[slot] = undefined;
      this.count--;
      return call;
    }
    if (this.overflow.size === 0) return undefined;
    const call = this.overflow.get(cid);
    if (call !== undefined || this.overflow.has(cid)) {
      this.overflow.delete(cid);
      this.count--;
    }
    return call;
  }

  /** Removes and returns the calls `picked` selects. */
  takeWhere(picked: (call: T) => boolean): T[] {
    const taken: T[] = [];
    if (this.count === 0) return taken;
    for (let slot = 0; slot < SLOTS; slot++) {
      if (this.ids[slot] === 0) continue;
      const call = this.calls[slot] as T;
      if (!picked(call)) continue;
      taken.push(call);
      this.ids[slot] = 0;
      this.calls[slot] = undefined;
      this.count--;
    }
    for (const [cid, call] of this.overflow) {
      if (!picked(call)) continue;
      taken.push(call);
      this.overflow.delete(cid);
      this.count--;
    }
    return taken;
  }

  /** Removes and returns every call. */
  takeAll(): T[] {
    return this.takeWhere(() => true);
  }
}
