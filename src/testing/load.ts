/**
 * A closed-loop load for the fleet tests: `concurrency` loops each send the
 * next request when the last is answered, until `stop()` says so or
 * `maxCalls` were sent (always bounded). Counts statuses; never throws for a
 * failed request.
 */
export interface LoadOptions {
  url: string;
  concurrency: number;
  maxCalls: number;
  stop?: () => boolean;
}

export interface Load {
  /** Requests answered so far (any status or failure). */
  readonly done: number;
  readonly statuses: Map<number, number>;
  /** Resolves when every loop has ended. */
  finished: Promise<void>;
  /** Ends the loops after their requests in flight. */
  end(): void;
}

export function startLoad(o: LoadOptions): Load {
  let sent = 0;
  let done = 0;
  let ended = false;
  const statuses = new Map<number, number>();
  const loop = async () => {
    while (!ended && sent < o.maxCalls && !(o.stop?.() ?? false)) {
      sent++;
      let status = 0;
      try {
        const res = await fetch(o.url);
        await res.arrayBuffer();
        status = res.status;
      } catch {
        status = 0;
      }
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      done++;
    }
  };
  const finished = Promise.all(Array.from({ length: o.concurrency }, loop)).then(() => {});
  return {
    get done() {
      return done;
    },
    statuses,
    finished,
    end: () => {
      ended = true;
    },
  };
}

/** Resolves once `check()` holds, polling; throws after `timeoutMs` (a hang guard, not a measurement). */
export async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
