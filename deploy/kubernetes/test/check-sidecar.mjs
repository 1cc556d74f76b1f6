// Checks a rendered sidecar overlay (deploy/kubernetes/sidecar/{container,native}) beyond the
// schema: the schema accepts a patch that missed its target (a proxy container with no image, an
// exporter without the socket), this does not.
// Usage: node check-sidecar.mjs BASE.yaml RENDERED.yaml container|native DEPLOYMENT PROXY_CONTAINER
// BASE.yaml is the rendered deploy/kubernetes, whose exporter container the sidecar must equal.
// Prints every failed check; exit status 1 if any.
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { parseAllDocuments } from 'yaml';

const [baseFile, renderedFile, variant, deploymentName, proxyName] = process.argv.slice(2);
if (!['container', 'native'].includes(variant) || !proxyName) {
  console.error('usage: check-sidecar.mjs BASE RENDERED container|native DEPLOYMENT PROXY');
  process.exit(2);
}
const load = (file) =>
  parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS()).filter(Boolean);
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };

const baseExporter = load(baseFile).find((o) => o.kind === 'Deployment')
  .spec.template.spec.containers.find((c) => c.name === 'exporter');
const objects = load(renderedFile);
const deployments = objects.filter((o) => o.kind === 'Deployment');
check(deployments.length === 1, `one Deployment rendered, found ${deployments.length}`);
const deployment =
  deployments[0] ?? { metadata: {}, spec: { template: { metadata: {}, spec: {} } } };
check(deployment.metadata.name === deploymentName,
  `Deployment named ${deploymentName}, found ${deployment.metadata.name}`);
const template = deployment.spec.template;
const pod = template.spec;
const containers = pod.containers ?? [];
const initContainers = pod.initContainers ?? [];

const [inList, otherList] =
  variant === 'native' ? [initContainers, containers] : [containers, initContainers];
const exporter = inList.find((c) => c.name === 'exporter');
check(exporter, `exporter in ${variant === 'native' ? 'initContainers' : 'containers'}`);
check(!otherList.some((c) => c.name === 'exporter'), 'exporter in only one container list');
if (exporter) {
  const { restartPolicy, ...rest } = exporter;
  check(variant === 'native' ? restartPolicy === 'Always' : restartPolicy === undefined,
    `exporter restartPolicy ${variant === 'native' ? 'Always' : 'unset'}, found ${restartPolicy}`);
  check(isDeepStrictEqual(rest, baseExporter),
    'exporter container equals the one of deploy/kubernetes/base/deployment.yaml');
  check(exporter.ports?.some((p) => p.name === 'metrics' && p.containerPort === 10190),
    'exporter port metrics 10190');
  for (const probe of ['livenessProbe', 'readinessProbe']) {
    check(exporter[probe]?.httpGet?.port === 'metrics', `exporter ${probe} on port metrics`);
  }
}

const volume = (pod.volumes ?? []).find((v) => v.name === 'smartproxy-run');
check(volume?.emptyDir, 'volume smartproxy-run is an emptyDir');
const socketArg = exporter?.args?.find((a) => a.startsWith('--proxy.socket='));
const socketDir = socketArg?.slice('--proxy.socket='.length).replace(/\/[^/]*$/, '');
const proxy = containers.find((c) => c.name === proxyName);
for (const [what, container] of [['exporter', exporter], [`proxy container ${proxyName}`, proxy]]) {
  check(container?.volumeMounts?.some((m) => m.name === 'smartproxy-run' &&
    m.mountPath === socketDir),
    `${what} mounts smartproxy-run at ${socketDir} (the directory of --proxy.socket)`);
}
// A patch whose proxy container name matches nothing adds a container with no image.
for (const container of [...containers, ...initContainers]) {
  check(container.image, `container ${container.name} has an image` +
    ' (a patch name that matches no container adds one without)');
}
check(Number.isInteger(pod.securityContext?.fsGroup),
  'pod fsGroup set (the group of the socket directory)');

const labels = template.metadata?.labels ?? {};
const matches = (selector) =>
  Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
check(matches(deployment.spec.selector), 'the Deployment selector still matches its pod template');
const podMonitor = objects.find((o) => o.kind === 'PodMonitor');
check(podMonitor && matches(podMonitor.spec.selector), 'the PodMonitor selects the pod template');
check(podMonitor?.spec.podMetricsEndpoints?.some((e) => e.port === 'metrics'),
  'the PodMonitor scrapes port metrics');
check(labels[podMonitor?.spec.jobLabel] === 'smartproxy',
  'the PodMonitor job label is "smartproxy"');

for (const failure of failures) console.error(`FAIL ${renderedFile}: ${failure}`);
const summary = failures.length === 0 ? 'all checks passed' : `${failures.length} checks failed`;
console.log(`sidecar ${variant}: ${summary}`);
process.exit(failures.length === 0 ? 0 : 1);
