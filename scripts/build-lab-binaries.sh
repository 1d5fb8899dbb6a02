#!/usr/bin/env bash
# Build the embedded-lab binaries from lab/k8s (pinned Kubernetes release):
#
#   ${KUBE_SLI_CACHE:-$HOME/.cache/kube-sli}/bin/k8s-<version>/kube-lab
#   ${KUBE_SLI_CACHE:-$HOME/.cache/kube-sli}/bin/k8s-<version>/agnhost
#   ${KUBE_SLI_CACHE:-$HOME/.cache/kube-sli}/bin/k8s-<version>/e2e.test  (upstream's network
#     and common e2e suites, lab/k8s/e2e)
#   (+ symlinks etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
#    kube-proxy, kubectl, kubelet, kubemark -> kube-lab)
#
# A stamp (version + Go version + hash of go.mod/go.sum/*.go + this script)
# makes a second run a no-op. Modules come from GOPROXY; GOCACHE/GOMODCACHE
# keep their Go defaults (outside the work tree).
#
# Env: KUBE_SLI_CACHE  cache root (default ~/.cache/kube-sli)
#      KUBE_LAB_OUT_DIR  output directory (default <cache>/bin/k8s-<version>), e.g. a
#                        scratch build beside the shared one
#      KUBE_LAB_FORCE=1  rebuild even if the stamp matches
#      KUBE_LAB_NICE     nice level for go commands (default 15)
#      GOTOOLCHAIN       e.g. GOTOOLCHAIN=go1.25.0 to build with a Go toolchain
#                        fetched from the module proxy (golang.org/toolchain)
# Flags: --print-dir  print the output directory and exit (no build)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lab="$repo/lab/k8s"
self="$repo/scripts/build-lab-binaries.sh"

die() { echo "build-lab-binaries: ERROR: $*" >&2; exit 1; }
log() { printf '[build-lab-binaries %5ss] %s\n' "$SECONDS" "$*" >&2; }

[[ -f "$lab/go.mod" && -f "$lab/K8S_VERSION" ]] || die "missing $lab/go.mod or K8S_VERSION (run lab/k8s/gen-gomod.sh v1.34.x)"
version="$(tr -d '[:space:]' < "$lab/K8S_VERSION")"
[[ "$version" =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || die "bad version '$version' in $lab/K8S_VERSION"
major=1 minor="${BASH_REMATCH[1]}"

cache="${KUBE_SLI_CACHE:-$HOME/.cache/kube-sli}"
out="${KUBE_LAB_OUT_DIR:-$cache/bin/k8s-$version}"
if [[ "${1:-}" == "--print-dir" ]]; then echo "$out"; exit 0; fi

# --- Go toolchain -----------------------------------------------------------
command -v go >/dev/null 2>&1 || die "'go' not found in PATH. Install Go >= 1.21 (e.g. Debian: apt-get install golang-go), then re-run; a newer toolchain is fetched through the module proxy with GOTOOLCHAIN=go1.<x>.<y> (see lab/k8s/README.md)."
need="$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$lab/go.mod")"
# `go env GOVERSION` honours GOTOOLCHAIN (it may download golang.org/toolchain
# from the proxy first); Go < 1.16 has no GOVERSION at all.
# Inside lab/k8s a Go >= 1.21 with GOTOOLCHAIN=auto (the default) switches to
# the go.mod version by itself; with GOTOOLCHAIN=local it refuses, so ask
# again outside the module to report what is installed.
have="$(cd "$lab" && go env GOVERSION 2>/dev/null)" ||
  have="$(cd / && go env GOVERSION 2>/dev/null)" || have=""
have="${have#go}"; have="${have%% *}"
version_ge() { [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]; }
if [[ -z "$have" ]] || ! version_ge "$have" "$need"; then
  die "Go ${have:-<1.16 ($(go version 2>&1))} is too old: lab/k8s/go.mod needs go >= $need.
  With Go >= 1.21 installed, fetch a toolchain from the Go module proxy and re-run:
      GOTOOLCHAIN=go1.25.0 $0
  (downloads module golang.org/toolchain@v0.0.1-go1.25.0.<os>-<arch> via GOPROXY;
   no access to go.dev/dl needed). With Go < 1.21 see lab/k8s/README.md."
fi
goversion="$(cd "$lab" && go version)"

# --- stamp ------------------------------------------------------------------
hash_inputs() {
  {
    echo "$version"
    echo "$goversion"
    echo "CGO_ENABLED=${CGO_ENABLED:-0} $(cd "$lab" && go env GOOS GOARCH | tr '\n' ' ')"
    # contents only (awk drops the paths): another checkout of the same sources is up to date
    cd "$lab" && sha256sum go.mod go.sum K8S_VERSION $(ls ./*.go ./e2e/*.go | LC_ALL=C sort) "$self" | awk '{print $1}'
  } | sha256sum | cut -d' ' -f1
}
stamp_want="$(hash_inputs)"
stamp_file="$out/.stamp"
if [[ "${KUBE_LAB_FORCE:-0}" != 1 && -x "$out/kube-lab" && -x "$out/agnhost" && -x "$out/e2e.test" && -f "$stamp_file" ]] &&
   [[ "$(cat "$stamp_file")" == "$stamp_want" ]]; then
  log "up to date: k8s $version ($goversion), stamp $stamp_want"
  echo "$out/kube-lab"
  echo "$out/agnhost"
  echo "$out/e2e.test"
  exit 0
fi

# --- build ------------------------------------------------------------------
mkdir -p "$out"
nice_cmd=(nice -n "${KUBE_LAB_NICE:-15}")
export CGO_ENABLED="${CGO_ENABLED:-0}" # static, like upstream release builds

build_date="$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' \
  "$(cd "$lab" && go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$version.info" 2>/dev/null || true)"
[[ -n "$build_date" ]] || build_date="1970-01-01T00:00:00Z"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
done

log "k8s.io/kubernetes $version, $goversion, CGO_ENABLED=$CGO_ENABLED"
log "output: $out"
cd "$lab"
log "go mod download (GOPROXY=$(go env GOPROXY))"
"${nice_cmd[@]}" go mod download ||
  die "go mod download failed in $lab (GOPROXY=$(go env GOPROXY)); see the error above"

build() { # <output-name> <package> [test]
  local t0=$SECONDS
  local verb=(build)
  [[ "${3:-}" == test ]] && verb=(test -c)
  log "go ${verb[*]} $2 -> $out/$1 (cold: several minutes on 2 cores)"
  rm -f "$out/$1.tmp"
  if ! "${nice_cmd[@]}" go "${verb[@]}" -trimpath -buildvcs=false -ldflags "$ldflags" -o "$out/$1.tmp" "$2"; then
    rm -f "$out/$1.tmp"
    die "go build of $2 failed (in $lab); see the compiler output above"
  fi
  mv -f "$out/$1.tmp" "$out/$1"
  log "built $1 in $((SECONDS - t0))s ($(du -h "$out/$1" | cut -f1))"
}
rm -f "$stamp_file"
build kube-lab .
build agnhost k8s.io/kubernetes/test/images/agnhost
build e2e.test ./e2e test

for c in etcd kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubectl kubelet kubemark; do
  ln -sfn kube-lab "$out/$c"
done
"$out/kube-lab" --version >/dev/null || die "built $out/kube-lab does not run"
echo "$stamp_want" > "$stamp_file"
log "done: $("$out/kube-lab" --version)"
echo "$out/kube-lab"
echo "$out/agnhost"
echo "$out/e2e.test"
