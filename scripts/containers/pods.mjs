// docker/kubernetes/ manifests as `podman run` arguments: the container test
// runs each container as a kubelet would (command and args, environment from
// ConfigMaps and Secrets, user, volumes, memory limit, grace period, probes),
// with a podman network alias standing in for each headless Service. Any
// field this does not know throws, so that the manifests cannot use the image
// in a way the test does not exercise.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** Every document of every *.yaml file in dir. */
export function loadManifests(dir) {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS({ maxAliasCount: -1 })));
}

export function find(docs, kind, name) {
  const doc = docs.find((d) => d.kind === kind && d.metadata?.name === name);
  if (!doc) throw new Error(`no ${kind} ${name} in the manifests`);
  return doc;
}

/** The headless Services whose selector matches the pod template's labels: their names resolve to the pod. */
export function serviceNames(docs, labels = {}) {
  return docs
    .filter((d) => d.kind === 'Service' && d.spec?.selector)
    .filter((d) => Object.entries(d.spec.selector).every(([k, v]) => labels[k] === v))
    .map((d) => d.metadata.name);
}

const CONTAINER_KEYS = new Set(['name', 'image', 'command', 'args', 'env', 'ports', 'resources', 'volumeMounts', 'startupProbe', 'readinessProbe']);
const POD_KEYS = new Set(['containers', 'volumes', 'securityContext', 'terminationGracePeriodSeconds', 'restartPolicy']);
const PROBE_KEYS = new Set(['exec', 'tcpSocket', 'periodSeconds', 'failureThreshold']);

function only(obj, keys, what) {
  for (const k of Object.keys(obj ?? {})) if (!keys.has(k)) throw new Error(`${what}: the container test does not handle '${k}'`);
}

/** "1Gi", "512Mi" as bytes. */
function bytes(quantity) {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(String(quantity));
  if (!m) throw new Error(`memory quantity ${quantity}: the container test handles Ki, Mi, Gi`);
  return Number(m[1]) * { undefined: 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[m[2]];
}

/** A probe as the command podman runs in the container: exec as it is, a TCP probe by docker/healthcheck.mjs. */
function probeCommand(probe, container, what) {
  only(probe, PROBE_KEYS, what);
  if (probe.exec) return probe.exec.command.map(String);
  const port = probe.tcpSocket.port;
  const number = typeof port === 'number' ? port : container.ports?.find((p) => p.name === port)?.containerPort;
  if (!number) throw new Error(`${what}: no port named ${port}`);
  return ['node', '/opt/faasbench/healthcheck.mjs', String(number)];
}

/**
 * The arguments after `podman run -d` for one container of a pod.
 * ctx: { name, hostname, image, network: "NET" or "container:NAME", ip (optional), aliases, configMaps: {name: data},
 *        secrets: {"name/key": podman secret}, claims: {claimName: podman volume}, env: {extra},
 *        filesDir (where ConfigMap volumes are written) }
 * Returns { args, probes: [{ kind, command }] } (startupProbe first).
 */
export function runArgs(pod, container, ctx) {
  const what = `container ${container.name}`;
  only(pod, POD_KEYS, 'pod spec');
  only(container, CONTAINER_KEYS, what);
  const args = ['--name', ctx.name, '--hostname', ctx.hostname, '--network', ctx.network];
  if (!ctx.network.startsWith('container:')) {
    if (ctx.ip) args.push('--ip', ctx.ip);
    for (const a of ctx.aliases ?? []) args.push('--network-alias', a);
  }

  const sc = pod.securityContext ?? {};
  if (sc.runAsNonRoot && !(sc.runAsUser > 0)) throw new Error('runAsNonRoot needs a runAsUser other than 0 here');
  if (sc.runAsUser !== undefined) args.push('--user', `${sc.runAsUser}:${sc.runAsGroup ?? sc.runAsUser}`);
  if (sc.fsGroup !== undefined) args.push('--group-add', String(sc.fsGroup));
  if (pod.terminationGracePeriodSeconds !== undefined) args.push('--stop-timeout', String(pod.terminationGracePeriodSeconds));
  if (container.resources?.limits?.memory) args.push('--memory', String(bytes(container.resources.limits.memory)));

  for (const e of container.env ?? []) {
    if (e.value !== undefined) args.push('--env', `${e.name}=${e.value}`);
    else if (e.valueFrom?.configMapKeyRef) {
      const { name, key } = e.valueFrom.configMapKeyRef;
      const value = ctx.configMaps[name]?.[key];
      if (value === undefined) throw new Error(`${what}: no key ${key} in ConfigMap ${name}`);
      args.push('--env', `${e.name}=${value}`);
    } else if (e.valueFrom?.secretKeyRef) {
      const { name, key } = e.valueFrom.secretKeyRef;
      const secret = ctx.secrets[`${name}/${key}`];
      if (!secret) throw new Error(`${what}: no secret ${name}/${key}`);
      args.push('--secret', `${secret},type=env,target=${e.name}`);
    } else throw new Error(`${what}: env ${e.name} comes from something the container test does not handle`);
  }
  for (const [k, v] of Object.entries(ctx.env ?? {})) args.push('--env', `${k}=${v}`);

  for (const m of container.volumeMounts ?? []) {
    const volume = (pod.volumes ?? []).find((v) => v.name === m.name);
    if (!volume) throw new Error(`${what}: no volume ${m.name}`);
    const ro = m.readOnly ? ':ro' : '';
    if (volume.persistentVolumeClaim) {
      const podmanVolume = ctx.claims[volume.persistentVolumeClaim.claimName];
      if (!podmanVolume) throw new Error(`${what}: no volume for claim ${volume.persistentVolumeClaim.claimName}`);
      args.push('--volume', `${podmanVolume}:${m.mountPath}${ro}`);
    } else if (volume.configMap) {
      const data = ctx.configMaps[volume.configMap.name];
      if (!data) throw new Error(`${what}: no ConfigMap ${volume.configMap.name}`);
      for (const item of volume.configMap.items ?? Object.keys(data).map((key) => ({ key, path: key }))) {
        const file = join(ctx.filesDir, `${ctx.name}-${item.path}`);
        writeFileSync(file, data[item.key], { mode: 0o644 });
        args.push('--volume', `${file}:${m.mountPath}/${item.path}:ro`);
      }
    } else throw new Error(`${what}: volume ${m.name} is of a kind the container test does not handle`);
  }

  const probes = [];
  for (const kind of ['startupProbe', 'readinessProbe']) {
    if (container[kind]) probes.push({ kind, command: probeCommand(container[kind], container, `${what} ${kind}`) });
  }
  // podman's health check is the first probe: `podman healthcheck run` then answers as the kubelet would.
  if (probes.length > 0) args.push('--health-cmd', JSON.stringify(probes[0].command), '--health-interval', 'disable');

  if (container.command) args.push('--entrypoint', JSON.stringify(container.command));
  args.push(ctx.image ?? container.image, ...(container.args ?? []).map(String));
  return { args, probes };
}
