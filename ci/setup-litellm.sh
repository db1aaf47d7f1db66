#!/usr/bin/env bash
# Create (or reuse) the Python venv with the LiteLLM Proxy that
# tests/litellm_real.rs runs against. Idempotent: a venv that already holds
# exactly the pinned versions is reused as is, without touching the network.
#
#   GATEWATCH_CACHE  where the venv lives (default: $PWD/.ci/cache)
#   PYTHON           interpreter used to create the venv (default: python3)
#
# Pip output goes to stderr. The last line on stdout ends with the path of the
# `litellm` executable, to export as GATEWATCH_LITELLM:
#   GATEWATCH_LITELLM=$(ci/setup-litellm.sh | tail -n1 | awk '{print $NF}')
#
# Why these pins (see the LiteLLM README in the shared notes): 1.106.12 is the
# newest release the registry here can install (1.108+ need litellm-proxy,
# 1.109 needs a newer litellm-proxy-extras, 1.107.x was a compromised
# release); without prisma every auth failure is a plain-text 500.
set -euo pipefail

readonly LITELLM_VERSION="1.106.12"
readonly PRISMA_SPEC="prisma>=0.11,<1"

started=$(date +%s)
cache="${GATEWATCH_CACHE:-$PWD/.ci/cache}"
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
venv="$cache/venv-litellm"
python="${PYTHON:-python3}"

log() { printf 'setup-litellm: %s\n' "$*" >&2; }

# Prints nothing and fails unless the venv holds litellm==$LITELLM_VERSION with
# its proxy extra importable, and a prisma in [0.11, 1).
venv_ok() {
    [ -x "$venv/bin/python" ] && [ -x "$venv/bin/litellm" ] || return 1
    "$venv/bin/python" - "$LITELLM_VERSION" <<'EOF'
import importlib.metadata as md
import importlib.util
import sys

want = sys.argv[1]
try:
    have = md.version("litellm")
    prisma = md.version("prisma")
except md.PackageNotFoundError as e:
    sys.exit(f"missing package: {e}")
if have != want:
    sys.exit(f"litellm {have} installed, {want} wanted")
major_minor = tuple(int(x) for x in prisma.split(".")[:2])
if not ((0, 11) <= major_minor < (1, 0)):
    sys.exit(f"prisma {prisma} outside >=0.11,<1")
# A few modules only the [proxy] extra brings.
for mod in ("fastapi", "uvicorn", "gunicorn", "apscheduler", "backoff", "orjson"):
    if importlib.util.find_spec(mod) is None:
        sys.exit(f"proxy extra incomplete: no {mod}")
EOF
}

if venv_ok 2>/dev/null; then
    log "reusing $venv (litellm $LITELLM_VERSION)"
else
    if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sys' 2>/dev/null; then
        log "creating $venv with $python"
        rm -rf "$venv"
        "$python" -m venv "$venv"
    else
        why=$(venv_ok 2>&1 || true)
        log "venv needs (re)install: ${why:-unknown reason}"
    fi
    log "pip install litellm[proxy]==$LITELLM_VERSION $PRISMA_SPEC (about 40 s on a fresh venv)"
    "$venv/bin/python" -m pip install --disable-pip-version-check --no-input \
        "litellm[proxy]==$LITELLM_VERSION" "$PRISMA_SPEC" 1>&2
    if ! why=$(venv_ok 2>&1); then
        log "still wrong after install: $why"
        exit 1
    fi
fi

version=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))')
echo "setup-litellm: litellm $version ready in $(( $(date +%s) - started ))s: $venv/bin/litellm"
