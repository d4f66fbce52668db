/**
 * What the RPC server does about clients that fail to say a proper hello: it
 * checks the secret in constant time, answers each further wrong guess from
 * one address later than the last (so guessing is slow; a right secret is
 * never delayed, even from that address), and logs refusals as one summary
 * line per interval rather than one line each.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { SummaryLog, type Logger } from '../log.js';

/** Addresses remembered; the longest-unseen is forgotten first, so memory stays bounded. */
const MAX_PEERS = 10_000;
/** Refusals held back at once, in all; beyond this they are answered at once. */
const MAX_HELD = 1_000;
/** Wrong guesses of one address awaiting their answer; beyond this its hellos are refused unread. */
const MAX_HELD_PER_PEER = 8;
const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 5_000;
/** A peer that has not failed for this long starts afresh. */
const FORGET_AFTER_MS = 60_000;

interface Peer {
  failures: number;
  /** Date.now() of the last failure. */
  last: number;
  /** Its refusals not yet answered. */
  held: number;
}

export interface Refusal {
  code: 'bad_secret' | 'throttled';
  message: string;
  delayMs: number;
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

export class HelloGuard {
  private readonly expected: Buffer | null;
  private readonly peers = new Map<string, Peer>();
  private held = 0;
  readonly refusals: SummaryLog;

  constructor(secret: string | undefined, logger: Logger, summaryIntervalMs?: number) {
    this.expected = secret === undefined ? null : digest(secret);
    this.refusals = new SummaryLog(logger, 'refused rpc connections', summaryIntervalMs);
  }

  /** null if a hello from `address` with `secret` may pass; otherwise the refusal and the delay before answering it. */
  check(address: string, secret: unknown): Refusal | null {
    if (this.expected === null) return null;
    const t = Date.now();
    let peer = this.peers.get(address);
    if (peer && peer.held === 0 && t - peer.last > FORGET_AFTER_MS) peer = undefined;
    const delay = (failures: number) => (failures <= 1 ? 0 : Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (failures - 2)));
    // Many guesses in parallel would otherwise each be checked: the delay alone bounds only a patient guesser.
    if (peer && peer.held >= MAX_HELD_PER_PEER) {
      return { code: 'throttled', message: 'too many wrong hellos from this address at once', delayMs: delay(peer.failures) };
    }
    // Fixed-length digests: the comparison takes the same time whatever the guess.
    if (typeof secret === 'string' && timingSafeEqual(digest(secret), this.expected)) return null;
    const failures = (peer?.failures ?? 0) + 1;
    this.peers.delete(address); // re-inserted last: the Map's order is the eviction order
    this.peers.set(address, { failures, last: t, held: peer?.held ?? 0 });
    if (this.peers.size > MAX_PEERS) this.peers.delete(this.peers.keys().next().value!);
    return { code: 'bad_secret', message: 'hello without the shared secret', delayMs: delay(failures) };
  }

  /** Runs `answer` after `delayMs`, or at once when too many answers are already held back. */
  later(address: string, delayMs: number, answer: () => void): void {
    const peer = this.peers.get(address);
    if (delayMs <= 0 || this.held >= MAX_HELD || !peer) return answer();
    this.held++;
    peer.held++;
    setTimeout(() => {
      this.held--;
      peer.held--;
      answer();
    }, delayMs).unref();
  }
}
