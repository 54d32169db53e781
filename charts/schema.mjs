// Writes each chart's values.schema.json from one description, so what blob, registry and export
// share is stated once and every object refuses unknown keys (additionalProperties: false).
// `node schema.mjs --check` fails when a committed schema differs from what this file makes.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const obj = (properties, extra = {}) => ({ type: 'object', additionalProperties: false, properties, ...extra });
const map = (values = { type: ['string', 'number', 'boolean'] }) => ({ type: 'object', additionalProperties: values });
const str = (extra = {}) => ({ type: 'string', ...extra });
const bool = { type: 'boolean' };
const int = (minimum, maximum) => ({ type: 'integer', minimum, ...(maximum === undefined ? {} : { maximum }) });
const oneOf = (...values) => ({ type: 'string', enum: values });
const list = (items) => ({ type: 'array', items });
// .NET TimeSpan text: [d.]hh:mm:ss[.fff]
const duration = str({ pattern: '^(\\d+\\.)?\\d{1,2}:\\d{2}:\\d{2}(\\.\\d+)?$' });
const port = int(1, 65535);
const hostPort = { type: ['integer', 'null'], minimum: 1, maximum: 65535 };
const quantity = { type: ['string', 'number'] };
const resourceList = obj({ cpu: quantity, memory: quantity, 'ephemeral-storage': quantity });
const secretName = str({ pattern: '^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$', maxLength: 253 });
const fileName = str({ pattern: '^[^/]*$' });

const auth = obj({
  issuer: str(), audience: str(), existingSecret: secretName, keysSecret: secretName,
  hmacKeyFile: fileName, publicKeyFiles: list(fileName), jwksFile: fileName, authority: str(),
  delegation: obj({ issuer: str(), publicKeyFile: fileName }),
});
const tls = obj({ existingSecret: secretName, clientCertificateMode: { type: 'string', enum: ['', 'None', 'Require'] } });
const otel = obj({ endpoint: str(), resourceAttributes: map(str()) });
const redisRef = { connectionString: str(), existingSecret: secretName };
const global = obj({
  image: obj({ tag: str(), pullPolicy: { type: 'string', enum: ['', 'Always', 'IfNotPresent', 'Never'] } }),
  auth, tls, allowPlaintext: bool, otel,
  networkPolicy: obj({ enabled: bool, allowNamespaces: list(str()), allowCidrs: list(str()) }),
  redis: obj({ enabled: bool, ...redisRef }),
});

// What every service chart has (charts/common renders it).
const service = ({ extraPorts = [], ...own }) => obj({
  image: obj({ repository: str({ minLength: 1 }), tag: str(), pullPolicy: { type: 'string', enum: ['', 'Always', 'IfNotPresent', 'Never'] } }),
  replicas: int(0),
  port, healthPort: port,
  hostPorts: obj(Object.fromEntries(['grpc', 'health', ...extraPorts].map((name) => [name, hostPort]))),
  startupFailureThreshold: int(1),
  resources: obj({ requests: resourceList, limits: resourceList }),
  shutdown: obj({ preStopSeconds: int(0), delaySeconds: int(0), timeoutSeconds: int(1), terminationGracePeriodSeconds: int(1) }),
  serviceAccount: obj({ create: bool, name: str() }),
  podDisruptionBudget: obj({ enabled: bool, maxUnavailable: { type: ['integer', 'string'] } }),
  autoscaling: obj({ enabled: bool, minReplicas: int(1), maxReplicas: int(1), targetCPUUtilizationPercentage: int(1, 100) }),
  networkPolicy: obj({
    enabled: bool, allowNamespaces: list(str()), allowCidrs: list(str()),
    ...(extraPorts.includes('gateway') ? { gatewayFromAnywhere: bool } : {}),
  }),
  podAnnotations: map(str()), nodeSelector: map(str()), env: map(),
  otel, redis: obj(redisRef), auth, tls, allowPlaintext: bool,
  // helm puts global into every chart's values, and the library chart's (only global) under common.
  global, common: obj({ global }),
  ...own,
});
const persistence = obj({ enabled: bool, size: str(), storageClass: str() });
const s3 = {
  serviceUrl: str(), region: str(), bucket: str({ minLength: 3 }), prefix: str(), compatibility: bool,
  createBucket: bool, existingSecret: secretName,
};

const schemas = {
  blob: service({
    extraPorts: ['gateway'],
    gateway: obj({ port: int(0, 65535), publicUrl: str(), allowDigestOnly: bool, capabilityKeySecret: secretName, capabilityLifetime: duration }),
    storage: obj({ kind: oneOf('filesystem', 's3'), s3: obj(s3) }),
    index: obj({ kind: oneOf('sqlite', 'postgres'), postgres: obj({ existingSecret: secretName }) }),
    cache: obj({ maxBytes: int(0) }),
    encryption: obj({ existingSecret: secretName, activeKeyId: str() }),
    gc: obj({ gracePeriod: duration, interval: duration }),
    persistence,
  }),
  registry: service({
    store: obj({
      kind: oneOf('sqlite', 'postgres'),
      sqlite: obj({ path: str({ minLength: 1 }), busyTimeoutMs: int(0) }),
      postgres: obj({ existingSecret: secretName }),
    }),
    cache: obj({ mode: oneOf('auto', 'on', 'off') }),
    persistence,
  }),
  export: service({
    clients: obj({ registryAddress: str({ minLength: 1 }), blobAddress: str({ minLength: 1 }) }),
    installation: str({ minLength: 1 }), window: duration, lifetime: duration, downloadUrlLifetime: duration,
    maxConcurrentJobs: int(1), lease: duration, partSize: int(5 * 1024 * 1024, 1024 * 1024 * 1024), partsInFlight: int(1, 16),
    s3: obj({ ...s3, publicServiceUrl: str() }),
    signing: obj({ existingSecret: secretName, file: fileName }),
    delegation: obj({ existingSecret: secretName, file: fileName, issuer: str(), lifetime: duration }),
    import: obj({
      requireSignature: bool, trustedKeys: list(str()), maxArchiveBytes: int(1), uploadLifetime: duration,
      allowHttpUrls: bool, allowedUrlHosts: list(str()),
    }),
  }),
};
// The umbrella: global, its Redis server, and each subchart's values.
const sub = (name) => schemas[name];
schemas.microservices = obj({
  global,
  redis: obj({
    image: obj({ repository: str({ minLength: 1 }), tag: str({ minLength: 1 }), pullPolicy: oneOf('Always', 'IfNotPresent', 'Never') }),
    port, hostPort, maxMemory: str(), resources: obj({ requests: resourceList, limits: resourceList }),
    persistence, networkPolicy: obj({ enabled: bool }),
  }),
  blob: sub('blob'), registry: sub('registry'), export: sub('export'),
});

const check = process.argv.includes('--check');
let stale = 0;
for (const [chart, schema] of Object.entries(schemas)) {
  const file = join(here, chart, 'values.schema.json');
  const text = JSON.stringify({ $schema: 'https://json-schema.org/draft-07/schema#', ...schema }, null, 2) + '\n';
  if (!check) { writeFileSync(file, text); continue; }
  let old = '';
  try { old = readFileSync(file, 'utf8'); } catch { /* missing: stale */ }
  if (old !== text) { console.error(`${chart}/values.schema.json is out of date: run node charts/schema.mjs`); stale++; }
}
process.exit(stale ? 1 : 0);
