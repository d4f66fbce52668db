#!/usr/bin/env node
// Writes examples/azure-trace.csv: a small synthetic trace in the format of the
// Azure Functions 2019 invocation trace (invocations_per_function_md.anon.dNN.csv:
// HashOwner,HashApp,HashFunction,Trigger, then one count per minute 1..1440),
// since no public data set can be fetched here. Seeded: the same file every time.
//   node scripts/make-azure-trace.mjs [out.csv]
import { writeFileSync } from 'node:fs';

let state = 20190701;
const random = () => {
  // mulberry32, as src/stats/random.ts
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
/** Poisson(mean) by inversion (small means only). */
const poisson = (mean) => {
  let k = 0;
  let p = Math.exp(-mean);
  let sum = p;
  const u = random();
  while (u > sum) {
    k++;
    p *= mean / k;
    sum += p;
  }
  return k;
};
const hex = () => Array.from({ length: 64 }, () => Math.floor(random() * 16).toString(16)).join('');

// Four functions as the trace's users meet them: a steady HTTP API with a daily
// cycle, a timer that fires once a minute, a queue consumer in bursts, and a
// rarely called one.
const functions = [
  { trigger: 'http', rate: (m) => 20 + 15 * Math.sin((2 * Math.PI * (m - 360)) / 1440) },
  { trigger: 'timer', rate: () => 1, exact: true },
  { trigger: 'queue', rate: (m) => (m % 30 < 3 ? 40 : 0.5) },
  { trigger: 'event', rate: () => 0.05 },
];
const owner = hex();
const app = hex();
const minutes = Array.from({ length: 1440 }, (_, m) => m + 1);
const lines = [['HashOwner', 'HashApp', 'HashFunction', 'Trigger', ...minutes].join(',')];
for (const f of functions) {
  const counts = minutes.map((m) => (f.exact ? f.rate(m) : poisson(f.rate(m))));
  lines.push([owner, app, hex(), f.trigger, ...counts].join(','));
}
const out = process.argv[2] ?? new URL('../examples/azure-trace.csv', import.meta.url);
writeFileSync(out, lines.join('\n') + '\n');
