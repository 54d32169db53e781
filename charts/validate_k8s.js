// node validate_k8s.js FILE...: every object in the rendered files through kubernetes-models'
// offline schema validation (by apiVersion and kind), then the rules charts/README.md promises
// for every Deployment: run from charts/.tools (where kubernetes-models is installed).
const fs = require('fs');
const YAML = require('yaml');
const kinds = {
  'apps/v1/Deployment': require('kubernetes-models/apps/v1/Deployment').Deployment,
  'apps/v1/StatefulSet': require('kubernetes-models/apps/v1/StatefulSet').StatefulSet,
  'v1/Service': require('kubernetes-models/v1/Service').Service,
  'v1/ConfigMap': require('kubernetes-models/v1/ConfigMap').ConfigMap,
  'v1/Secret': require('kubernetes-models/v1/Secret').Secret,
  'v1/ServiceAccount': require('kubernetes-models/v1/ServiceAccount').ServiceAccount,
  'v1/PersistentVolumeClaim': require('kubernetes-models/v1/PersistentVolumeClaim').PersistentVolumeClaim,
  'policy/v1/PodDisruptionBudget': require('kubernetes-models/policy/v1/PodDisruptionBudget').PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': require('kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler').HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': require('kubernetes-models/networking.k8s.io/v1/NetworkPolicy').NetworkPolicy,
};

function rules(where, d) {
  const fail = (why) => { throw new Error(`${where}: ${why}`); };
  const pod = d.spec.template.spec;
  if (pod.automountServiceAccountToken !== false) fail('automountServiceAccountToken must be false');
  const psc = pod.securityContext || {};
  if (psc.runAsNonRoot !== true || psc.runAsUser !== 1654) fail('pod must run as non-root user 1654');
  if (psc.seccompProfile?.type !== 'RuntimeDefault') fail('pod seccompProfile must be RuntimeDefault');
  for (const c of pod.containers) {
    const sc = c.securityContext || {};
    if (sc.readOnlyRootFilesystem !== true) fail(`${c.name}: readOnlyRootFilesystem must be true`);
    if (sc.allowPrivilegeEscalation !== false) fail(`${c.name}: allowPrivilegeEscalation must be false`);
    if (!(sc.capabilities?.drop || []).includes('ALL')) fail(`${c.name}: capabilities must drop ALL`);
    if (!c.resources?.requests || !c.resources?.limits) fail(`${c.name}: resource requests and limits`);
    const health = (c.ports || []).find((p) => p.name === 'health');
    if (!health) fail(`${c.name}: no port named health`);
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      if (c[probe]?.grpc?.port !== health.containerPort) fail(`${c.name}: ${probe} must be grpc on the health port`);
    }
    const env = Object.fromEntries((c.env || []).map((e) => [e.name, e]));
    if (!env.OTEL_SERVICE_NAME || !env.OTEL_RESOURCE_ATTRIBUTES) fail(`${c.name}: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES`);
    const sleep = c.lifecycle?.preStop?.sleep?.seconds;
    if (sleep === undefined) fail(`${c.name}: preStop sleep`);
    if (!(pod.terminationGracePeriodSeconds > sleep)) fail('terminationGracePeriodSeconds must exceed the preStop sleep');
    const mounts = (c.volumeMounts || []).map((m) => m.mountPath);
    if (!mounts.includes('/tmp') || !mounts.includes('/data')) fail(`${c.name}: writable /tmp and /data`);
    for (const e of c.env || []) {
      if (e.valueFrom?.secretKeyRef) fail(`${c.name}: ${e.name} from secretKeyRef (podman kube play 4.3 cannot; use envFrom secretRef)`);
    }
  }
}

function configRules(where, cm) {
  // The ConfigMap holds nothing secret: secrets come through envFrom secretRef or files.
  for (const key of Object.keys(cm.data || {})) {
    if (/(HmacKey|SecretKey|CapabilityKey|Postgres__ConnectionString|Index__ConnectionString)$/.test(key) && cm.data[key] !== '') {
      throw new Error(`${where}: ${key} is a secret, yet it is in the ConfigMap`);
    }
  }
}

let n = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'))) {
    const obj = doc.toJSON();
    if (!obj) continue;
    const where = `${file}: ${obj.kind} ${obj.metadata?.name}`;
    const Kind = kinds[`${obj.apiVersion}/${obj.kind}`];
    if (!Kind) throw new Error(`${where}: no validator for ${obj.apiVersion} ${obj.kind}`);
    new Kind(obj).validate();
    if (obj.kind === 'Deployment') rules(where, obj);
    if (obj.kind === 'ConfigMap') configRules(where, obj);
    n++;
  }
}
process.stdout.write(`${n} rendered objects valid, `);
