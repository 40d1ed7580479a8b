# Shared by the bin/ scripts: find Python >= 3.11 and make sure the virtualenv has tdxq.
# TDXQ_VENV names the virtualenv (default .venv); TDXQ_INSTALL=0 skips (re)installing.

tdxq_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tdxq_venv=${TDXQ_VENV:-$tdxq_root/.venv}

find_python() {
    local candidate
    for candidate in ${PYTHON:-} python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "tdxq needs Python 3.11 or newer; none found on PATH (set PYTHON=/path/to/python3.11)" >&2
    return 1
}

# ensure_venv EXTRAS: create the virtualenv if missing and install tdxq (editable) with EXTRAS.
ensure_venv() {
    local extras=$1
    if [[ ! -x "$tdxq_venv/bin/python" ]]; then
        local python
        python=$(find_python)
        echo "creating $tdxq_venv with $python" >&2
        "$python" -m venv "$tdxq_venv"
    fi
    # An editable install follows the code; reinstall only when the dependencies may have
    # changed (pyproject.toml or the extras asked for), so a second run starts at once.
    local stamp="$tdxq_venv/.tdxq-installed"
    local want
    want="$extras $(sha256sum "$tdxq_root/pyproject.toml" | cut -d' ' -f1)"
    if [[ "${TDXQ_INSTALL:-1}" != "0" ]] &&
        ! grep -qxF "$want" "$stamp" 2>/dev/null; then
        echo "installing tdxq[$extras] into $tdxq_venv" >&2
        "$tdxq_venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            -e "$tdxq_root[$extras]"
        echo "$want" >>"$stamp"
    fi
}
