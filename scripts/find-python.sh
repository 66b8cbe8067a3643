#!/usr/bin/env bash
# Print the path of a Python interpreter for the project's virtualenv: 3.13 (the Lambda
# runtime) where the machine has it, else the newest 3.12+. Exit 1 with a message otherwise.
set -euo pipefail

works() { "$1" -c 'import sys; assert sys.version_info >= (3, 12)' >/dev/null 2>&1; }

candidates=()
for v in 3.13 3.12; do
  # a real binary, not a pyenv shim that refuses to run without PYENV_VERSION
  if root=$(pyenv root 2>/dev/null); then
    for p in "$root"/versions/"$v"*/bin/python"$v"; do [ -x "$p" ] && candidates+=("$p"); done
  fi
  for p in /usr/local/bin/python"$v" /usr/bin/python"$v"; do [ -x "$p" ] && candidates+=("$p"); done
  if p=$(command -v python"$v" 2>/dev/null); then candidates+=("$p"); fi
done
if p=$(command -v python3 2>/dev/null); then candidates+=("$p"); fi

for p in "${candidates[@]}"; do
  if works "$p"; then echo "$p"; exit 0; fi
done
echo "no Python 3.12+ found; install Python 3.13 (the Lambda runtime), e.g. 'pyenv install 3.13'" >&2
exit 1
