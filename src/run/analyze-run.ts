/** The last step of `faasbench run`: analyse the run directory and print the summary table. */
import { formatAnalysisDigest } from '../analysis/digest.js';

export async function analyzeRun(out: string, say: (line: string) => void, o: { compress?: boolean; csv?: boolean } = {}): Promise<void> {
  say('analysing the records');
  // The analysis loads vega: only when it runs.
  const { analyze } = await import('../analysis/analyze.js');
  const result = await analyze({ inputs: [out], compress: o.compress, csv: o.csv });
  process.stdout.write(formatAnalysisDigest(result));
  const { writeFleetReport } = await import('../analysis/present/report/fleet.js');
  const fleet = await writeFleetReport(out);
  if (fleet) say(`fleet figures: ${fleet}`);
}
