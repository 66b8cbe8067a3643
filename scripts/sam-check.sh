#!/usr/bin/env bash
# Validate and build the SAM application the way CI does:
#   1. install the SAM CLI into .tools/sam (a venv with Python >= 3.11) unless it is there,
#   2. sam validate --lint (cfn-lint),
#   3. sam build (layers for CPython 3.13 on arm64; needs a python3.13 on PATH),
#   4. check the built layers (dev-only modules left out, .pyc for every module) and print
#      their sizes (unzipped and zipped) against Lambda's limits.
# Idempotent; safe to run again. Needs network access to PyPI only (no Docker, no AWS account).
#
# Environment:
#   SAM_CLI_SPEC   pip requirement for the SAM CLI (default: aws-sam-cli>=1.130,<2)
#   PYTHON313      path of a Python 3.13 interpreter to use instead of searching for one
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export SAM_CLI_TELEMETRY=0
SAM_VENV="$ROOT/.tools/sam"
SAM="$SAM_VENV/bin/sam"
SAM_CLI_SPEC="${SAM_CLI_SPEC:-aws-sam-cli>=1.130,<2}"

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

find_python313() {
    local candidate
    for candidate in "${PYTHON313:-}" "$(command -v python3.13 || true)"; do
        if py_version_ok "$candidate" "sys.version_info[:2] == (3, 13)"; then
            # resolve through the interpreter itself, so a shim is never put on PATH
            "$candidate" -c 'import sys; print(sys.executable)'
            return 0
        fi
    done
    for candidate in $(pyenv_versions_bins '3.13*'); do
        if py_version_ok "$candidate/python3.13" "sys.version_info[:2] == (3, 13)"; then
            echo "$candidate/python3.13"
            return 0
        fi
    done
    return 1
}

# --- 1. SAM CLI --------------------------------------------------------------------------------

if [ ! -x "$SAM" ]; then
    say "installing $SAM_CLI_SPEC into .tools/sam"
    base_python="$(find_python_for_tools)" ||
        die "no Python 3.11-3.13 with venv/ensurepip found (on Debian: apt-get install python3-venv)"
    rm -rf "$SAM_VENV"
    "$base_python" -m venv "$SAM_VENV"
    "$SAM_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$SAM_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$SAM_CLI_SPEC"
fi
"$SAM" --version

# --- 2. python3.13 for sam build -----------------------------------------------------------------

python313="$(find_python313)" || die "sam build needs Python 3.13 (the Lambda runtime) and none \
was found: tried \$PYTHON313, python3.13 on PATH and \$(pyenv root)/versions/3.13*/bin.
Install one, e.g. 'pyenv install 3.13', or set PYTHON313=/path/to/python3.13."
PATH="$(dirname "$python313"):$PATH"
export PATH
echo "python3.13: $python313"

# --- 3. validate and build ---------------------------------------------------------------------

say "sam validate --lint"
"$SAM" validate --lint --template template.yaml

say "sam build"
started=$(date +%s)
"$SAM" build --template template.yaml
echo "sam build took $(($(date +%s) - started)) s"

# --- 4. artifacts and sizes ---------------------------------------------------------------------

say "built layer contents"
build=.aws-sam/build
for expected in "$build/CommonLayer/python/stormwatch/__init__.py" \
    "$build/AssetsLayer/watchlist.yaml"; do
    [ -f "$expected" ] || die "missing in the build: $expected"
done
compgen -G "$build/AssetsLayer/templates/*.j2" >/dev/null || die "no templates in $build/AssetsLayer/templates"
echo "/opt/python/stormwatch, /opt/watchlist.yaml and /opt/templates/*.j2 are in place"
# the dev-only modules are out and every module has its .pyc (layers/common/Makefile)
"$python313" - "$build/CommonLayer/python" <<'PY' || die "the built CommonLayer is not lean"
import subprocess
import sys
from pathlib import Path

layer = Path(sys.argv[1])
dev_only = subprocess.run(
    [sys.executable, "scripts/layer_modules.py", "--dev-only"],
    capture_output=True, text=True, check=True,
).stdout.split()
shipped = [name for name in dev_only if (layer / "stormwatch" / name).exists()]
tag = sys.implementation.cache_tag
uncompiled = [
    str(p) for p in layer.rglob("*.py")
    if not (p.parent / "__pycache__" / f"{p.stem}.{tag}.pyc").exists()
]
print(f"dev-only modules left out: {len(dev_only)}; modules without a .pyc: {len(uncompiled)}")
sys.exit(1 if shipped or uncompiled else 0)
PY

say "built layers (Lambda limits: 250 MB unzipped for function + layers, 50 MB zipped upload)"
"$python313" - .aws-sam/build <<'PY'
import io
import os
import sys
import zipfile

build = sys.argv[1]
for name in sorted(os.listdir(build)):
    path = os.path.join(build, name)
    if not os.path.isdir(path) or not name.endswith("Layer"):
        continue
    unzipped = 0
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for folder, _, files in os.walk(path):
            for file in files:
                full = os.path.join(folder, file)
                unzipped += os.path.getsize(full)
                archive.write(full, os.path.relpath(full, path))
    print(f"{name:<14} {unzipped / 2**20:8.2f} MB unzipped {len(buffer.getvalue()) / 2**20:8.2f} MB zipped")
PY
