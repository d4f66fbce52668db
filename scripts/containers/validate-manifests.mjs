#!/usr/bin/env node
// Validates every document of docker/kubernetes/*.yaml against the Kubernetes
// OpenAPI schemas of the npm package kubernetes-models (not a dependency of
// faasbench: scripts/containers/run.sh installs it into a directory of its own):
//
//   node scripts/containers/validate-manifests.mjs --models DIR [--manifests DIR]
//
// --models DIR: where kubernetes-models is installed (DIR/node_modules/kubernetes-models).
// Also checks that the validation bites: a Deployment with `replicas: two` must fail.
// Exits 1 listing every invalid document.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadManifests } from './pods.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const opts = { manifests: join(here, '..', '..', 'docker', 'kubernetes') };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '-h' || argv[i] === '--help') {
    console.log('usage: validate-manifests.mjs --models DIR [--manifests DIR]\n(see the comment at the top of the file)');
    process.exit(0);
  } else if ((argv[i] === '--models' || argv[i] === '--manifests') && argv[i + 1]) opts[argv[i].slice(2)] = argv[++i];
  else {
    console.error(`validate-manifests: bad argument '${argv[i]}' (see --help)`);
    process.exit(2);
  }
}
if (!opts.models) {
  console.error('validate-manifests: --models DIR is required (see --help)');
  process.exit(2);
}
const require = createRequire(join(opts.models, 'node_modules', 'index.js'));
const model = (doc) => require(`kubernetes-models/${doc.apiVersion}/${doc.kind}`)[doc.kind];

const failures = [];
const docs = loadManifests(opts.manifests);
for (const doc of docs) {
  try {
    new (model(doc))(doc).validate();
  } catch (err) {
    failures.push(`${doc.kind} ${doc.metadata?.name}: ${err.message}`);
  }
}
const broken = structuredClone(docs.find((d) => d.kind === 'Deployment'));
broken.spec.replicas = 'two';
let bites = false;
try {
  new (model(broken))(broken).validate();
} catch {
  bites = true;
}
if (!bites) failures.push('a Deployment with replicas: two passed: the validation checks nothing');
if (failures.length > 0) {
  for (const f of failures) console.error(`invalid: ${f}`);
  process.exit(1);
}
console.log(`${docs.length} documents valid: ${docs.map((d) => `${d.kind} ${d.metadata.name}`).join(', ')}`);
