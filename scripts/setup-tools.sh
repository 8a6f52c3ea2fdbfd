#!/usr/bin/env bash
# Installs the pinned tools infra-agent shells out to into .tools/ (git-ignored), offline-friendly:
#   terraform (the one on PATH when it is in the supported range, else built with `go install`),
#   tfsec and opa (`go install`), checkov (pip, in a venv), the test providers hashicorp/random and
#   hashicorp/local (built with `go install` into a filesystem mirror) and a Terraform CLI config that makes
#   `terraform init` work without the registry. PostgreSQL and bubblewrap (the sandbox every tool that reads repository
#   code runs in) come from Debian's packages when missing and this runs as root; otherwise it says what to install.
# Every step is skipped when its stamp says the pinned version is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
mkdir -p "$ROOT/.tools"
# The real path: a worktree's .tools is a symlink to a shared toolchain, and the sandbox binds real paths only, so a
# CLI config naming the link (…/wt/x/.tools/providers) would point nowhere inside it.
T=$(cd -P "$ROOT/.tools" && pwd)
mkdir -p "$T/bin" "$T/stamps" "$T/providers" "$T/plugin-cache"

# --- pinned versions (change here, nowhere else) -------------------------------------------------------------
TERRAFORM_VERSION=1.11.4          # built when no terraform >= 1.5, < 2 is on PATH
TF_MIN_MINOR=5
TFSEC_VERSION=v1.28.14
OPA_VERSION=v1.22.2
CHECKOV_VERSION=3.2.533
# Trivy (tfsec's maintained successor) needs Go's json/v2 experiment to build; opt-in (INFRA_AGENT_WITH_TRIVY=1): its
# dependency tree is large (a long first build on 2 cores).
TRIVY_VERSION=v0.74.0
# The providers' GitHub tags (v3.x) are not importable Go versions, so they are pinned by commit pseudo-version.
# Their mirror version is the commit date, so nobody mistakes them for a registry release.
RANDOM_MODULE=github.com/terraform-providers/terraform-provider-random
RANDOM_PSEUDO=v1.3.2-0.20260824155315-e1092b0cfc07
RANDOM_MIRROR_VERSION=2026.8.24
LOCAL_MODULE=github.com/terraform-providers/terraform-provider-local
LOCAL_PSEUDO=v1.4.1-0.20260513075820-3561e410f9fe
LOCAL_MIRROR_VERSION=2026.5.13
# ---------------------------------------------------------------------------------------------------------------

log() { echo "setup-tools: $*" >&2; }
done_stamp() { [ -f "$T/stamps/$1" ] && [ -e "$2" ]; }
mark() { touch "$T/stamps/$1"; }
need() { command -v "$1" >/dev/null 2>&1 || { log "missing '$1' on PATH: $2"; exit 2; }; }

go_build() { # name module@version dest
  local name=$1 modver=$2 dest=$3
  need go "install Go (https://go.dev/dl) to build $name"
  log "building $name ($modver) with go install (first run only, a few minutes)"
  local gobin; gobin=$(mktemp -d)
  GOBIN="$gobin" GOFLAGS=-buildvcs=false CGO_ENABLED=0 go install "$modver"
  mv "$gobin/$(ls "$gobin" | head -n1)" "$dest"
  rm -rf "$gobin"
}

# terraform ---------------------------------------------------------------------------------------------------
if ! done_stamp "terraform-$TERRAFORM_VERSION" "$T/bin/terraform"; then
  sys=$(PATH=$(echo "$PATH" | tr ':' '\n' | grep -v "^$T/bin\$" | paste -sd:) command -v terraform || true)
  ok=""
  if [ -n "$sys" ]; then
    v=$("$sys" version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([0-9.]*\)".*/\1/p' | head -n1)
    major=${v%%.*}; rest=${v#*.}; minor=${rest%%.*}
    if [ "$major" = "1" ] && [ "${minor:-0}" -ge "$TF_MIN_MINOR" ]; then ok=1; ln -sf "$sys" "$T/bin/terraform"; log "using terraform $v from $sys"; fi
  fi
  [ -n "$ok" ] || go_build terraform "github.com/hashicorp/terraform@v$TERRAFORM_VERSION" "$T/bin/terraform"
  mark "terraform-$TERRAFORM_VERSION"
fi

# tfsec, opa --------------------------------------------------------------------------------------------------
done_stamp "tfsec-$TFSEC_VERSION" "$T/bin/tfsec" || { go_build tfsec "github.com/aquasecurity/tfsec/cmd/tfsec@$TFSEC_VERSION" "$T/bin/tfsec"; mark "tfsec-$TFSEC_VERSION"; }
done_stamp "opa-$OPA_VERSION" "$T/bin/opa" || { go_build opa "github.com/open-policy-agent/opa@$OPA_VERSION" "$T/bin/opa"; mark "opa-$OPA_VERSION"; }

if [ "${INFRA_AGENT_WITH_TRIVY:-0}" = "1" ]; then
  done_stamp "trivy-$TRIVY_VERSION" "$T/bin/trivy" || {
    GOEXPERIMENT=jsonv2 go_build trivy "github.com/aquasecurity/trivy/cmd/trivy@$TRIVY_VERSION" "$T/bin/trivy"
    mark "trivy-$TRIVY_VERSION"
  }
fi

# checkov (pip, venv) -----------------------------------------------------------------------------------------
if ! done_stamp "checkov-$CHECKOV_VERSION" "$T/venv/bin/checkov"; then
  need python3 "install Python 3.9+ to get checkov"
  log "installing checkov $CHECKOV_VERSION into .tools/venv (first run only)"
  python3 -m venv "$T/venv"
  "$T/venv/bin/pip" install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
  ln -sf "$T/venv/bin/checkov" "$T/bin/checkov"
  mark "checkov-$CHECKOV_VERSION"
fi

# test providers in a filesystem mirror ------------------------------------------------------------------------
provider() { # type module pseudo mirrorVersion
  local type=$1 module=$2 pseudo=$3 ver=$4
  local dir="$T/providers/registry.terraform.io/hashicorp/$type/$ver/linux_amd64"
  local bin="$dir/terraform-provider-${type}_v$ver"
  done_stamp "provider-$type-$pseudo" "$bin" && return 0
  mkdir -p "$dir"
  go_build "provider $type" "$module@$pseudo" "$bin"
  mark "provider-$type-$pseudo"
}
provider random "$RANDOM_MODULE" "$RANDOM_PSEUDO" "$RANDOM_MIRROR_VERSION"
provider local "$LOCAL_MODULE" "$LOCAL_PSEUDO" "$LOCAL_MIRROR_VERSION"

# The CLI config: providers only from the mirror (init never reaches for the registry), a shared plugin cache.
cat > "$T/terraformrc.tmp" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$T/providers"
    include = ["registry.terraform.io/*/*"]
  }
}
plugin_cache_dir = "$T/plugin-cache"
disable_checkpoint = true
RC
cmp -s "$T/terraformrc.tmp" "$T/terraformrc" 2>/dev/null && rm "$T/terraformrc.tmp" || mv "$T/terraformrc.tmp" "$T/terraformrc"

# bubblewrap: the sandbox every tool that reads repository code runs in (no sandbox, no plan) ------------------
if ! command -v bwrap >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    log "installing bubblewrap from Debian's packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
  else
    log "bubblewrap is not installed and this script cannot install it (needs root and apt-get)."
    log "  Install it yourself (Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf install bubblewrap)."
    log "  Without it infra-agent refuses to plan or apply; \`infra-agent doctor\` says whether a sandbox starts."
  fi
fi
if command -v bwrap >/dev/null 2>&1 && ! bwrap --unshare-all --die-with-parent --ro-bind / / true 2>/dev/null; then
  log "bubblewrap is installed but cannot create a sandbox here: as non-root it needs user namespaces"
  log "  (sysctl kernel.unprivileged_userns_clone=1; in a container, allow them or run the App as root)."
fi

# PostgreSQL server binaries (the multi-replica store's tests start their own cluster) -------------------------
if ! command -v pg_ctl >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    log "installing PostgreSQL from Debian's packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    log "PostgreSQL is not installed; install it (e.g. apt-get install postgresql) to run the PostgreSQL store tests"
  fi
fi
exit 0
