/** The last step of `faasbench run`: analyse the run directory and print the summary table. */
import { formatAnalysisDigest } from '../analysis/digest.js';

export async function analyzeRun(out: string, say: (line: string) => void, compress = false): Promise<void> {
  say('analysing the records');
  // The analysis loads vega: only when it runs.
  const { analyze } = await import('../analysis/analyze.js');
  const result = await analyze({ inputs: [out], compress });
  process.stdout.write(formatAnalysisDigest(result));
  const { writeLifecycleReport } = await import('../analysis/present/report/instance-experiments.js');
  const lifecycle = await writeLifecycleReport(out);
  if (lifecycle) say(`instance figures: ${lifecycle}`);
  const { writeComposeReport } = await import('../analysis/present/report/composition.js');
  const compose = await writeComposeReport(out);
  if (compose) say(`composition figures: ${compose}`);
}
