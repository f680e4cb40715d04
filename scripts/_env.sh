# Shared by scripts/*: a project-local virtualenv with the build tool, so nothing global is needed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${FERROFETCH_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
export VIRTUAL_ENV="$VENV"
export PATH="$VENV/bin:$PATH"
if ! "$VENV/bin/python" -c "import maturin" 2>/dev/null; then
    "$VENV/bin/python" -m pip install --quiet --upgrade pip "maturin>=1.9,<2"
fi
cd "$ROOT"
