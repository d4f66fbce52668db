/** The last step of `faasbench run`: analyse the run directory and print the summary table. */
import { analyze } from '../analysis/analyze.js';
import { formatAnalysisDigest } from '../analysis/digest.js';

export async function analyzeRun(out: string, say: (line: string) => void): Promise<void> {
  say('analysing the records');
  const result = await analyze({ inputs: [out] });
  process.stdout.write(formatAnalysisDigest(result));
}
