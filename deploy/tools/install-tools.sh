#!/usr/bin/env bash
# Tools the deployment checks in tests/deploy need beyond the workspace: the Docker Compose CLI plugin (for
# `docker compose -f deploy/docker-compose.yml config`, which needs no Docker engine) and, only where kubectl is
# missing, a standalone kustomize. Both are built from source with Go through the Go module proxy (there is no
# Debian package of Compose v2+ for bookworm, and Debian's docker-compose 1.29 predates the Compose features the
# file uses). Idempotent: a tool already at the pinned version is left alone. On this 2-core machine a cold build
# of Compose took 1-3 minutes (module downloads and a 2-core build); with warm Go caches it takes 2 seconds.
set -euo pipefail

COMPOSE_VERSION=v5.6.0        # needs Go >= 1.26.8 (its go.mod); later versions may need a newer Go
KUSTOMIZE_VERSION=v5.8.2      # needs Go >= 1.26.0

# Two test workers may run this at once: the second waits for the first, then finds the tools in place.
lock_dir="${SATUPINTU_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/satupintu}"
mkdir -p "$lock_dir"
exec 9>"$lock_dir/install-tools.lock"
flock 9

plugin_dir="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
compose="$plugin_dir/docker-compose"

go_tool() {
    if command -v go >/dev/null 2>&1; then command -v go
    elif [ -x /usr/local/go/bin/go ]; then echo /usr/local/go/bin/go
    else echo "install-tools: Go is needed to build $1 (none on PATH or at /usr/local/go)" >&2; return 1
    fi
}

if [ -x "$compose" ] && [ "$("$compose" version --short 2>/dev/null)" = "${COMPOSE_VERSION#v}" ]; then
    :
else
    go=$(go_tool "Docker Compose")
    echo "install-tools: building Docker Compose $COMPOSE_VERSION into $compose ..."
    work=$(mktemp -d)
    trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
    # `go install module@version` refuses modules whose go.mod has replace/exclude directives, as Compose's does:
    # build it as the main module from its module zip instead (checked against the Go checksum database).
    source_dir=$(GOFLAGS=-mod=mod "$go" mod download -json "github.com/docker/compose/v5@$COMPOSE_VERSION" \
        | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    cp -r "$source_dir" "$work/compose" && chmod -R u+w "$work/compose"
    mkdir -p "$plugin_dir"
    (cd "$work/compose" && GOTOOLCHAIN=local CGO_ENABLED=0 "$go" build -trimpath \
        -ldflags "-s -w -X github.com/docker/compose/v5/internal.Version=$COMPOSE_VERSION" \
        -o "$compose.new" ./cmd)
    mv "$compose.new" "$compose"
fi
echo "install-tools: $("$compose" version)"

if ! command -v kubectl >/dev/null 2>&1 && ! command -v kustomize >/dev/null 2>&1; then
    go=$(go_tool kustomize)
    echo "install-tools: kubectl is missing; building kustomize $KUSTOMIZE_VERSION ..."
    GOTOOLCHAIN=local GOBIN="$HOME/.local/bin" "$go" install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
    echo "install-tools: kustomize in $HOME/.local/bin (put it on PATH)"
fi
