/**
 * Reading an experiment config file (JSON or YAML, by its extension) and
 * checking it against schemas/config.schema.json: what `faasbench run
 * --config` (run/config.ts, which adds the checks the schema cannot say) and
 * `faasbench scaler --config` (scale/params.ts, which takes its `scaling`
 * section) both need. Errors are one line naming the file and the key.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { schemaValidator, type Validator } from './schemas.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The parsed file, unchecked. */
export async function readConfigFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read the config ${file}: ${(err as Error).message}`);
  }
  const yaml = /\.ya?ml$/i.test(file);
  try {
    return yaml ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file} is not valid ${yaml ? 'YAML' : 'JSON'}: ${(err as Error).message}`);
  }
}

let validator: Validator | null = null;

/** Throws a ConfigError naming `where` and the first key the schema refuses. */
export function checkConfigSchema(raw: unknown, where: string): void {
  validator ??= schemaValidator('config');
  const problem = validator(raw);
  if (problem !== null) throw new ConfigError(`${where}: ${problem}`);
}
