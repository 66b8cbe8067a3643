# Helpers shared by the scripts that install build tools into their own venvs under .tools/.
# Source it: `. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"`.

say() { printf '\n==> %s\n' "$*"; }
die() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# An interpreter whose version is at least/exactly what we need. `command -v` is not enough:
# a pyenv shim exists for every installed version but fails unless that version is selected.
py_version_ok() { # $1 interpreter, $2 python expression over sys.version_info
    [ -n "$1" ] && "$1" -c "import sys; sys.exit(0 if $2 else 1)" >/dev/null 2>&1
}

pyenv_versions_bins() { # bin directories of pyenv-installed CPython versions matching $1 (glob)
    local root
    root="${PYENV_ROOT:-}"
    if [ -z "$root" ] && command -v pyenv >/dev/null 2>&1; then root="$(pyenv root)"; fi
    [ -n "$root" ] || root="$HOME/.pyenv"
    # newest first
    # shellcheck disable=SC2086
    ls -d "$root"/versions/$1/bin 2>/dev/null | sort -rV || true
}

find_python_for_tools() { # any Python 3.11-3.13 with venv + ensurepip, for a tool's own venv
    local candidate
    for candidate in python3.11 python3.12 python3.13 python3 \
        $(pyenv_versions_bins '3.1[1-3]*' | sed 's#$#/python3#'); do
        candidate="$(command -v "$candidate" || true)"
        if py_version_ok "$candidate" "(3, 11) <= sys.version_info < (3, 14)" &&
            "$candidate" -c 'import venv, ensurepip' >/dev/null 2>&1; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

# Install a pip requirement into its own venv unless the venv already satisfies it:
# tool_venv DIR SPEC. An existing venv is upgraded in place when the pin moves.
tool_venv() {
    local dir="$1" spec="$2" base_python
    if [ -x "$dir/bin/python" ] && "$dir/bin/python" -m pip install --quiet --dry-run \
        --no-index --disable-pip-version-check "$spec" >/dev/null 2>&1; then
        return 0
    fi
    say "installing $spec into $dir"
    if [ ! -x "$dir/bin/python" ]; then
        base_python="$(find_python_for_tools)" ||
            die "no Python 3.11-3.13 with venv/ensurepip found (Debian: apt-get install python3-venv)"
        "$base_python" -m venv "$dir"
        "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    fi
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$spec"
}
