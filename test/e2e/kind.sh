#!/usr/bin/env bash
# End to end on a throwaway kind cluster: build and load the images, install the chart, run a workload under a
# TokenPolicy, fetch a token from inside its pod and verify it against the issuer's JWKS. The node tier
# (test/node/injection.test.ts) runs the same story on a real node here and verifies with the same checks.
# Needs docker, kind, kubectl, helm and node (with `npm ci` done). KEEP=1 keeps the cluster afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROOT=$(pwd)
CLUSTER=${CLUSTER:-tessera-e2e}
TAG=e2e
AUDIENCE=https://orders.example
WORK=$(mktemp -d)

cleanup() {
  kill "${PORT_FORWARD:-}" 2>/dev/null || true
  rm -rf "$WORK"
  [[ "${KEEP:-}" == 1 ]] || kind delete cluster --name "$CLUSTER"
}
trap cleanup EXIT

echo "== cluster and images"
kind create cluster --name "$CLUSTER" --wait 120s
docker build --target controller -t "tessera/controller:$TAG" "$ROOT"
docker build --target sidecar -t "tessera/sidecar:$TAG" "$ROOT"
kind load docker-image --name "$CLUSTER" "tessera/controller:$TAG" "tessera/sidecar:$TAG"

echo "== chart"
helm install tessera "$ROOT/charts/tessera" --namespace tessera --create-namespace \
  --set image.controller.tag=$TAG --set image.sidecar.tag=$TAG \
  --set cluster.name=kind --set cluster.environment=e2e --wait --timeout 5m

echo "== workload: an opted-in namespace, the issuer CA, a policy and a pod"
kubectl create namespace e2e
kubectl label namespace e2e tessera.dev/inject=enabled
kubectl -n tessera get secret tessera-webhook-tls -o jsonpath='{.data.ca\.crt}' | base64 -d > "$WORK/ca.crt"
kubectl -n e2e create configmap tessera-issuer-ca --from-file=ca.crt="$WORK/ca.crt"
kubectl apply -f - <<YAML
apiVersion: tessera.dev/v1alpha1
kind: ClusterTokenPolicy
metadata: { name: e2e-audiences }
spec:
  owner: { team: platform }
  # An external API's audience nobody in the cluster owns: the operator opens it to policies.
  audienceOwnership:
    - audiences: ["$AUDIENCE"]
      ownedBy: Open
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: orders, namespace: e2e }
---
apiVersion: tessera.dev/v1alpha1
kind: TokenPolicy
metadata: { name: orders, namespace: e2e }
spec:
  owner: { team: e2e }
  subjects: { serviceAccounts: [orders] }
  audiences: ["$AUDIENCE"]
---
apiVersion: v1
kind: Pod
metadata:
  name: orders
  namespace: e2e
  annotations: { tessera.dev/audiences: "$AUDIENCE" }
spec:
  serviceAccountName: orders
  containers:
    - name: app
      image: curlimages/curl:8.11.1
      command: [sleep, infinity]
YAML
kubectl -n e2e wait --for=condition=Ready pod/orders --timeout=180s
kubectl -n e2e get tokenpolicy orders

echo "== a token from inside the pod"
kubectl -n e2e exec orders -c app -- curl -fsS -H 'Tessera-Token-Request: true' \
  "http://127.0.0.1:8777/v1/token?audience=$AUDIENCE" > "$WORK/token.json"

echo "== verified against the issuer's JWKS"
kubectl -n tessera port-forward service/tessera 8443:443 > /dev/null &
PORT_FORWARD=$!
sleep 3
node --import tsx "$ROOT/test/e2e/verify-token.ts" \
  --jwks-url https://127.0.0.1:8443/.well-known/jwks.json --servername tessera.tessera.svc --ca "$WORK/ca.crt" \
  --issuer https://tessera.tessera.svc --audience "$AUDIENCE" --token-file "$WORK/token.json"
echo "== passed"
