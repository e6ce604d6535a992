# Sourced by scripts/serve and scripts/test: make .venv and install the project into it.
# Installs again only when pyproject.toml changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON_BIN="${PYTHON:-python3.11}"
command -v "$PYTHON_BIN" >/dev/null 2>&1 || PYTHON_BIN=python3

ensure_venv() {
    local extras="$1"   # "" or "dev"
    if [ ! -x "$VENV/bin/python" ]; then
        echo "creating $VENV" >&2
        "$PYTHON_BIN" -m venv "$VENV"
    fi
    local stamp="$VENV/.install-stamp-${extras:-base}"
    local want
    want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        echo "installing jobmatch${extras:+[$extras]} into $VENV (first run takes a few minutes)" >&2
        "$VENV/bin/python" -m pip install --quiet --upgrade pip
        # The CPU build of torch, asked for by exact version: any other pulls a CUDA build.
        "$VENV/bin/python" -m pip install --quiet "torch==2.13.0"
        if [ -n "$extras" ]; then
            "$VENV/bin/python" -m pip install --quiet -e "$ROOT[$extras]"
        else
            "$VENV/bin/python" -m pip install --quiet -e "$ROOT"
        fi
        echo "$want" > "$stamp"
    fi
    export PATH="$VENV/bin:$PATH"
    export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
}
