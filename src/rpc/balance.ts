/**
 * How a gateway picks the worker connection for a call. Each policy looks
 * only at the connections that are ready and at the calls each has in flight
 * (sent, not yet answered): what the gateway knows without asking a worker.
 */

export const BALANCE_POLICIES = ['round-robin', 'least-outstanding', 'p2c'] as const;
export type BalancePolicy = (typeof BALANCE_POLICIES)[number];

/** How a gateway spreads its calls, as its records say: its policy, over how many workers it has when a record is written. */
export interface Spread {
  balance: string;
  readonly workers: number;
}

/** `workers`: read at each record (a fleet that changes, fleet.ts). */
export function spreadOf(balance: BalancePolicy | undefined, workers: () => number): Spread {
  return {
    balance: balance ?? 'round-robin',
    get workers() {
      return workers();
    },
  };
}

export interface Candidate {
  readonly isReady: boolean;
  readonly inFlight: number;
}

/** Index of the chosen candidate, or -1 when none is ready. */
export type Pick = (candidates: readonly Candidate[]) => number;

/**
 * - round-robin: the next ready connection in turn, whatever its load (the seed's policy).
 * - least-outstanding: the ready connection with fewest calls in flight;
 *   ties go round-robin, so an idle fleet is still spread evenly.
 * - p2c (power of two choices, Mitzenmacher): two distinct ready connections
 *   drawn at random, the one with fewer in flight; nearly as even as
 *   least-outstanding, without every gateway herding onto the same idlest worker.
 */
export function balancer(policy: BalancePolicy, random: () => number = Math.random): Pick {
  let turn = 0;
  const advance = (i: number, n: number) => {
    turn = (i + 1) % n;
    return i;
  };
  switch (policy) {
    case 'round-robin':
      return (cs) => {
        const n = cs.length;
        for (let k = 0; k < n; k++) {
          const i = (turn + k) % n;
          if (cs[i]!.isReady) return advance(i, n);
        }
        return -1;
      };
    case 'least-outstanding':
      return (cs) => {
        const n = cs.length;
        let best = -1;
        for (let k = 0; k < n; k++) {
          const i = (turn + k) % n;
          const c = cs[i]!;
          if (c.isReady && (best === -1 || c.inFlight < cs[best]!.inFlight)) best = i;
        }
        return best === -1 ? -1 : advance(best, n);
      };
    case 'p2c': {
      const ready: number[] = [];
      return (cs) => {
        ready.length = 0;
        for (let i = 0; i < cs.length; i++) if (cs[i]!.isReady) ready.push(i);
        const n = ready.length;
        if (n <= 1) return n === 1 ? ready[0]! : -1;
        const a = Math.floor(random() * n);
        // The second draw skips the first, so the two are always distinct.
        const b = (a + 1 + Math.floor(random() * (n - 1))) % n;
        const [x, y] = [cs[ready[a]!]!, cs[ready[b]!]!];
        return y.inFlight < x.inFlight ? ready[b]! : ready[a]!;
      };
    }
  }
}
