"""How late the console shows the reply's first token: page time minus the moment the LLM produced it.

The in-process console stamps each reply token with this machine's clock as LangGraph hands it over from the LLM;
the chat page records, for the first one, the time it was written into the page (``window.hefTimings``). Both
clocks are this machine's, so the difference is the console's own delay: queue, server-sent event, browser.
Each message starts a new conversation in headless Chromium. With ``--screenshots DIR`` it then photographs
the three pages (chat with its trace, inbox with a paused crisis turn, a rating packet) for the docs.

Run: python benchmarks/console_first_token.py --messages 30 --out docs/console_first_token.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hef_graph.lab.metrics import nearest_rank_percentile  # noqa: E402
from tests.browser import chromium, running_console  # noqa: E402

CRISIS = "I want to end my life. Nothing is worth it anymore."


def ed_messages(data_dir: Path, count: int, seed: int) -> list[str]:
    """First turns of ED test conversations, drawn with ``seed``."""
    with gzip.open(data_dir / "empathetic_dialogues" / "test.jsonl.gz", "rt", encoding="utf-8") as lines:
        firsts = [json.loads(line)["utterances"][0]["text"] for line in lines]
    return random.Random(seed).sample(firsts, count)


def first_token_lag(tab, url: str, text: str) -> float:
    """Send ``text`` in a new conversation; return the ms between the LLM's first token and the page's."""
    tab.goto(url + "/")
    tab.fill("#message", text)
    tab.press("#message", "Enter")
    tab.wait_for_selector("details.trace[open] .turn", timeout=300_000)
    return float(tab.evaluate("window.hefTimings[0]"))


def summary(lags: list[float]) -> dict[str, float]:
    """The delays' median, 10th and 90th percentiles (nearest rank), least and most."""
    return {"median_ms": round(statistics.median(lags), 1), "p10_ms": round(nearest_rank_percentile(lags, 0.1), 1),
            "p90_ms": round(nearest_rank_percentile(lags, 0.9), 1), "min_ms": round(min(lags), 1),
            "max_ms": round(max(lags), 1)}  # fmt: skip


def screenshots(browser, url: str, folder: Path, thread_text: str) -> None:
    """The chat with its trace, the inbox with a paused crisis turn, and a rating packet."""
    person = browser.new_context(viewport={"width": 1440, "height": 1500}).new_page()
    person.goto(url + "/")
    person.fill("#message", thread_text)
    person.press("#message", "Enter")
    person.wait_for_selector("details.trace[open] .turn", timeout=300_000)
    person.screenshot(path=str(folder / "console_chat.png"))
    person.goto(url + "/")
    person.fill("#message", CRISIS)
    person.press("#message", "Enter")
    person.wait_for_selector("#waiting", timeout=300_000)
    reviewer = browser.new_context(viewport={"width": 1200, "height": 800}).new_page()
    reviewer.goto(url + "/inbox")
    reviewer.wait_for_selector(".pause")
    reviewer.screenshot(path=str(folder / "console_inbox.png"))
    rater = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    rater.goto(url + "/rate/embedded?rater=screenshot")
    rater.wait_for_selector(".reply-card")
    rater.screenshot(path=str(folder / "console_rate.png"))


def main() -> None:
    """Measure the first-token delay over ``--messages`` turns and print its distribution."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--llm", default=None, help="load_llm spec (default: the default LLM)")
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--screenshots", type=Path, default=None, help="folder for the three pages' screenshots")
    args = parser.parse_args()
    messages = ed_messages(args.data_dir, args.messages, args.seed)
    work = Path(tempfile.mkdtemp(prefix="hef-console-bench-"))
    options = ["--data-dir", str(work / "data"), "--packets", str(ROOT / "docs" / "eval" / "rated")]
    options += ["--llm", args.llm] if args.llm else []
    env = {"HEF_AUTH_SECRET": "", "HEF_AUTH": "off"}
    started = time.time()
    with running_console(work / "console.log", *options, env=env) as url, chromium() as browser:
        tab = browser.new_context().new_page()
        lags = [first_token_lag(tab, url, text) for text in messages]
        if args.screenshots:
            screenshots(browser, url, args.screenshots, "My dog died this morning. I keep expecting him at the door.")
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    result = {"messages": len(lags), "seed": args.seed, "llm": args.llm or "default (Qwen2.5-Coder-1.5B)",
              **summary(lags), "lags_ms": [round(lag, 1) for lag in lags], "date": date.today().isoformat(),
              "machine": machine, "wall_s": round(time.time() - started)}  # fmt: skip
    print(json.dumps({key: value for key, value in result.items() if key != "lags_ms"}, indent=1))
    print("distribution (ms):", " ".join(f"{lag:.0f}" for lag in sorted(lags)))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
