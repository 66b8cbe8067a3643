#!/usr/bin/env bash
# Regenerate the two lock files from their inputs (`make lock`), with uv (pinned) in .tools/uv:
#   layers/common/requirements.lock  <- layers/common/requirements.txt, for the Lambda runtime:
#       CPython 3.13 on aarch64 manylinux (glibc 2.34, Amazon Linux 2023), without what the
#       runtime provides (RUNTIME_PROVIDED in layers/common/Makefile). `sam build` installs it.
#   requirements-dev.lock            <- pyproject.toml [project] + [dev], for every platform and
#       Python >= 3.12 (the venv of `make venv` / `make test`), held to the layer's versions.
# Every line is an exact version with the hashes of all its files on PyPI; pip installs them
# with --require-hashes. Resolution needs PyPI and nothing else.
#
# Run it after changing layers/common/requirements.txt or pyproject.toml's dependencies: it
# keeps every existing pin the inputs still allow and resolves only what changed. To take up new
# releases (security fixes), `make lock-upgrade` (--upgrade) re-resolves everything to the newest
# allowed versions. Then `make test`, and commit the locks with the change.
#
# Usage: scripts/lock.sh [--upgrade]
# Environment:
#   UV_SPEC   pip requirement for uv (default: uv==0.13.9)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

UV_SPEC="${UV_SPEC:-uv==0.13.9}"
upgrade=()
case "${1:-}" in
    "") ;;
    --upgrade) upgrade=(--upgrade) ;;
    *) die "usage: scripts/lock.sh [--upgrade]" ;;
esac

tool_venv "$ROOT/.tools/uv" "$UV_SPEC"
uv="$ROOT/.tools/uv/bin/uv"
# a lock reflects the inputs and the index, not this machine's uv.toml or environment
export UV_NO_CONFIG=1 UV_PYTHON_DOWNLOADS=never

no_emit=()
for pkg in $(make --no-print-directory -s -f layers/common/Makefile runtime-provided); do
    no_emit+=(--no-emit-package "$pkg")
done

say "layers/common/requirements.lock (CPython 3.13, aarch64 manylinux_2_34)"
"$uv" pip compile layers/common/requirements.txt --quiet ${upgrade[@]+"${upgrade[@]}"} --generate-hashes \
    --python-version 3.13 --python-platform aarch64-manylinux_2_34 "${no_emit[@]}" \
    --custom-compile-command "make lock" --output-file layers/common/requirements.lock

say "requirements-dev.lock (Python >= 3.12, any platform, the layer's versions)"
"$uv" pip compile pyproject.toml --extra dev --quiet ${upgrade[@]+"${upgrade[@]}"} --generate-hashes --universal \
    --python-version 3.12 --constraint layers/common/requirements.lock \
    --custom-compile-command "make lock" --output-file requirements-dev.lock

echo "locked: $(grep -c '^[A-Za-z0-9]' layers/common/requirements.lock) layer packages," \
    "$(grep -c '^[A-Za-z0-9]' requirements-dev.lock) dev packages"
