/**
 * `npm run bench:steady`: how often does the steady-state check
 * (src/stats/steady-state.ts) cry wolf, and how often does it catch a real
 * drift? Simulated rounds, so the truth is known: latencies with a
 * log-normal spread (0.3) whose logarithm is a Gaussian AR(1) — ρ = 0 is
 * independent requests, ρ = 0.9 about what a closed loop's queue gives at
 * lag 1 — each judged as the analysis judges a round. False alarms: a
 * stationary round read "not steady". Caught: the same rounds with +30% over
 * the window (a trend), or +30% from 60% of it on (a shift).
 * Pure computation, no timing: the figures are the same on any machine.
 * Options: --seeds N (200 rounds per row).
 */
import { independenceOf } from '../stats/independence.js';
import { steadyStateOf } from '../stats/steady-state.js';
import { ar1 } from '../testing/series.js';
import { integerFlag, scriptArgs, usageError } from './script-args.js';

const USAGE = 'usage: npm run bench:steady -- [--seeds 200]';
const fail = usageError('bench:steady', USAGE);
const values = scriptArgs({ options: { seeds: { type: 'string', default: '200' }, help: { type: 'boolean', default: false } } }, USAGE, fail);
const seeds = integerFlag('seeds', values.seeds, 1, 100_000, fail);

type Shape = (i: number, n: number) => number;
const flat: Shape = () => 1;
const trend: Shape = (i, n) => 1 + (0.3 * i) / n;
const shift: Shape = (i, n) => (i >= 0.6 * n ? 1.3 : 1);

/** Share of rounds judged not steady, of those judged; and how many could be judged. */
function notSteady(n: number, phi: number, shape: Shape): { share: number; judged: number } {
  let judged = 0;
  let flagged = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const x = ar1(n, phi, seed).map((v, i) => 1e6 * Math.exp(0.3 * v) * shape(i, n));
    const r = steadyStateOf(x, independenceOf(x).lag);
    if (r.steady === null) continue;
    judged++;
    if (!r.steady) flagged++;
  }
  return { share: judged === 0 ? NaN : flagged / judged, judged };
}

const pct = (x: number) => (Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(1)}%`);
console.log(`steady-state check on simulated rounds (${seeds} per row): share read "not steady"`);
console.log('| ρ (lag 1) | requests in the round | false alarms (stationary) | a cell of 3 rounds | +30% trend caught | +30% shift caught |');
console.log('|---|---|---|---|---|---|');
for (const phi of [0, 0.5, 0.9]) {
  for (const n of [334, 1000, 3000, 10_000]) {
    const f = notSteady(n, phi, flat);
    const cell = 1 - (1 - f.share) ** 3;
    console.log(`| ${phi} | ${n.toLocaleString('en-US')} | ${pct(f.share)} | ${pct(cell)} | ${pct(notSteady(n, phi, trend).share)} | ${pct(notSteady(n, phi, shift).share)} |`);
  }
}
