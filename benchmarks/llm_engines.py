"""Which engine should run a GGUF LLM on this CPU: llama.cpp on the Q4 file, or transformers on a dequantised copy?

Each engine runs in a fresh process (so its peak RSS is its own) on the same HEF reply prompts: load time,
first reply (load + one reply), prompt and generation tokens per second (medians over the prompts), peak RSS.

Run: python benchmarks/llm_engines.py --model qwen0.5b --prompts 5 --out docs/llm_engines_qwen05.json
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

MAX_NEW_TOKENS = 48


def prompts(count: int, seed: int) -> list[list[dict[str, str]]]:
    """HEF reply prompts (system, quoted dialogue, task) for ED test contexts."""
    import random

    from hef_graph.dialogue import format_dialogue
    from hef_graph.lab.data import default_data_dir, load_samples
    from hef_graph.prompting import chat_dicts, dialogue_prompt

    samples = random.Random(seed).sample(load_samples(default_data_dir(), "test"), count)
    chats = []
    for sample in samples:
        messages = dialogue_prompt("draft_response", format_dialogue(sample.context), notes="")
        chats.append(chat_dicts(messages))
    return chats


def run_llama_cpp(path: Path, chats: list[list[dict[str, str]]]) -> dict:
    """llama.cpp on the quantised file, greedy, two threads."""
    from llama_cpp import Llama

    started = time.perf_counter()
    llm = Llama(model_path=str(path), n_ctx=4096, n_threads=2, verbose=False)
    loaded = time.perf_counter() - started
    rows = []
    for chat in chats:
        begin = time.perf_counter()
        out = llm.create_chat_completion(chat, max_tokens=MAX_NEW_TOKENS, temperature=0.0, repeat_penalty=1.1)
        seconds = time.perf_counter() - begin
        usage = out["usage"]
        text = out["choices"][0]["message"]["content"]
        rows.append({"seconds": seconds, "prompt_tokens": usage["prompt_tokens"],
                     "new_tokens": usage["completion_tokens"], "text": text})  # fmt: skip
    return {"load_s": loaded, "rows": rows}


def run_transformers(path: Path, chats: list[list[dict[str, str]]]) -> dict:
    """Transformers on a bf16 copy dequantised from the GGUF (converted once into the cache)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from hef_graph.llm.loading import cache_dir

    folder = cache_dir() / f"{path.stem}-bf16"
    if not (folder / "config.json").is_file():
        tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.bfloat16)
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        del model
    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.bfloat16)
    loaded = time.perf_counter() - started
    rows = []
    for chat in chats:
        begin = time.perf_counter()
        ids = tokenizer.apply_chat_template(chat, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        with torch.inference_mode():
            out = model.generate(**ids, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, repetition_penalty=1.1)
        seconds = time.perf_counter() - begin
        new = out[0, ids["input_ids"].shape[1] :]
        rows.append({"seconds": seconds, "prompt_tokens": int(ids["input_ids"].shape[1]), "new_tokens": len(new),
                     "text": tokenizer.decode(new, skip_special_tokens=True)})  # fmt: skip
    return {"load_s": loaded, "rows": rows}


def engine_main(engine: str, model: str, count: int, seed: int) -> None:
    """One engine in this process; prints its JSON summary on the last line."""
    from hef_graph.llm.loading import gguf_file

    torch_threads()
    chats = prompts(count, seed)
    path = gguf_file(model)
    started = time.perf_counter()
    result = (run_llama_cpp if engine == "llama.cpp" else run_transformers)(path, chats)
    rows = result["rows"]
    summary = {
        "engine": engine,
        "load_s": round(result["load_s"], 2),
        "first_reply_s": round(result["load_s"] + rows[0]["seconds"], 2),
        "reply_s_p50": round(statistics.median(r["seconds"] for r in rows), 2),
        "new_tokens_per_s_p50": round(statistics.median(r["new_tokens"] / r["seconds"] for r in rows), 1),
        "prompt_tokens_p50": statistics.median(r["prompt_tokens"] for r in rows),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "wall_s": round(time.perf_counter() - started, 1),
        "replies": [r["text"] for r in rows],
    }
    print(json.dumps(summary))


def torch_threads() -> None:
    """Two threads, as the machine has two cores."""
    import torch

    torch.set_num_threads(2)


def main() -> None:
    """Run each engine in its own process and save the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen0.5b", choices=["smollm2", "qwen0.5b", "qwen1.5b"])
    parser.add_argument("--prompts", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--engines", default="llama.cpp,transformers")
    parser.add_argument("--engine", help=argparse.SUPPRESS)  # internal: run one engine in this process
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.engine:
        engine_main(args.engine, args.model, args.prompts, args.seed)
        return
    report: dict = {"model": args.model, "prompts": args.prompts, "seed": args.seed,
                    "max_new_tokens": MAX_NEW_TOKENS, "engines": [],
                    "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, 2 threads"}  # fmt: skip
    for engine in args.engines.split(","):
        command = [sys.executable, __file__, "--engine", engine, "--model", args.model,
                   "--prompts", str(args.prompts), "--seed", str(args.seed)]  # fmt: skip
        output = subprocess.run(command, capture_output=True, text=True, check=True)
        report["engines"].append(json.loads(output.stdout.strip().splitlines()[-1]))
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
