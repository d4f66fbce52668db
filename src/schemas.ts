/**
 * The published JSON Schemas (schemas/*.schema.json, copied into dist/schemas
 * by the build) and ajv validators over them whose error is one line naming
 * the offending key, e.g. `endpoints[0].rate must be a positive number …, got -1`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ErrorObject, SchemaObject } from 'ajv';

export type SchemaName = 'config' | 'summary' | 'workflow';

export function loadSchema(name: SchemaName): SchemaObject {
  return JSON.parse(readFileSync(new URL(`../schemas/${name}.schema.json`, import.meta.url), 'utf8')) as SchemaObject;
}

/** Checks data against the schema: null when valid, else the first problem as one line. */
export type Validator = (data: unknown) => string | null;

export function schemaValidator(name: SchemaName): Validator {
  // Required here, not imported above: every command's start-up would load ajv.
  const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
  // verbose: each error carries the data and the schema it failed, for the message.
  const validate = new Ajv({ verbose: true, allowUnionTypes: true }).compile(loadSchema(name));
  return (data) => (validate(data) ? null : describe(validate.errors ?? []));
}

/** "/endpoints/0/path" → "endpoints[0].path". */
function keyPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, p) => (/^\d+$/.test(p) ? `${path}[${p}]` : path ? `${path}.${p}` : p), '');
}

const shown = (data: unknown) => {
  // JSON has no Infinity or NaN (a YAML 1e309 is Infinity): JSON.stringify would say null.
  const text = typeof data === 'number' && !Number.isFinite(data) ? String(data) : (JSON.stringify(data) ?? String(data));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

function describe(errors: ErrorObject[]): string {
  // ajv reports a failed oneOf's branches first and the oneOf itself last: the last error is the one to name.
  const e = errors[errors.length - 1];
  if (!e) return 'is not valid';
  const key = keyPath(e.instancePath);
  const where = key || 'the top level';
  if (e.keyword === 'additionalProperties') {
    const known = Object.keys((e.parentSchema as SchemaObject | undefined)?.properties ?? {});
    return `${where} has an unknown key "${e.params.additionalProperty as string}"${known.length ? ` (known: ${known.join(', ')})` : ''}`;
  }
  if (e.keyword === 'required') return `${key ? `${key}.` : ''}${e.params.missingProperty as string} is required`;
  const schema = (e.parentSchema ?? {}) as SchemaObject;
  const expected = Array.isArray(schema.enum)
    ? `one of ${schema.enum.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`
    : typeof schema.description === 'string'
      ? schema.description
      : (e.message ?? 'valid').replace(/^must be /, '');
  return `${where} must be ${expected}, got ${shown(e.data)}`;
}
