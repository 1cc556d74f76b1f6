// Validates every object of rendered kustomize output (multi-document YAML files given as
// arguments) against the Kubernetes schemas (kubernetes-models) and the prometheus-operator CRD
// schemas (@kubernetes-models/prometheus-operator). An unknown apiVersion/kind is a failure, not a
// skip. Exit status 1 on any failure.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

// "apps/v1" → "kubernetes-models/apps/v1"; core "v1" → "kubernetes-models/v1";
// monitoring.coreos.com → the prometheus-operator package.
function modulePathFor(apiVersion) {
  if (apiVersion.startsWith('monitoring.coreos.com/')) {
    return `@kubernetes-models/prometheus-operator/${apiVersion}`;
  }
  return `kubernetes-models/${apiVersion}`;
}

async function validateObject(object) {
  const { apiVersion, kind } = object ?? {};
  if (!apiVersion || !kind) throw new Error('no apiVersion or kind');
  let module;
  try {
    module = await import(modulePathFor(apiVersion));
  } catch (error) {
    throw new Error(`no schema for apiVersion ${apiVersion}: ${error.message}`);
  }
  const Model = module[kind];
  if (!Model) throw new Error(`no schema for ${kind} in ${apiVersion}`);
  new Model(object).validate();  // throws with the failing paths
}

let failures = 0;
let checked = 0;
for (const file of process.argv.slice(2)) {
  const documents = parseAllDocuments(readFileSync(file, 'utf8'));
  for (const document of documents) {
    if (document.errors.length > 0) {
      console.error(`FAIL ${file}: YAML: ${document.errors.map((e) => e.message).join('; ')}`);
      failures++;
      continue;
    }
    const object = document.toJS();
    if (object === null) continue;
    const name = `${object.kind}/${object.metadata?.name}`;
    try {
      await validateObject(object);
      checked++;
      console.log(`ok   ${file}: ${object.apiVersion} ${name}`);
    } catch (error) {
      failures++;
      console.error(`FAIL ${file}: ${object.apiVersion} ${name}: ${error.message}`);
    }
  }
}
if (checked === 0 && failures === 0) {
  console.error('FAIL no objects to validate');
  process.exit(1);
}
console.log(`schema validation: ${checked} objects valid, ${failures} invalid`);
process.exit(failures === 0 ? 0 : 1);
