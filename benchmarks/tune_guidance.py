"""Choose the reply's notes and opener on ED *valid* (test stays for reporting), against the framed LLM alone.

For each sampled dialogue HEF's emotion, distribution and cause words are computed once, and the framed
LLM (HEF's own prompt without notes, `hef eval`'s llm_framed) replies once. Each variant (``Context``
fields -> values, over notes on and no opener: its gates, or ``reply_opener: true``) then composes its
notes and opener; where either is given the LLM replies with them, and the local pairwise judge compares
that reply with the framed one in both orders. A variant whose gates all stay shut gives the framed reply
itself, a tie by construction. Every reply is written to ``--replies`` for reading, and with
``--predictions`` as records (system ``framed`` or the variant's name) that ``hef rate-export`` turns into
a blind packet. ``--judge none`` skips the local judge (for raters only); ``--noted-by VARIANT`` keeps only
the dialogues where that variant gives a note or an opener, so raters read no ties made by construction.

Run: python benchmarks/tune_guidance.py --variants benchmarks/guidance_variants.json --per-label 1 --seed 3
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from hef_graph import Context, build_graph, load_llm, load_sem
from hef_graph.guidance import compose_guidance, reply_messages
from hef_graph.lab.data import default_data_dir, load_samples, stratified_sample
from hef_graph.lab.evaluation.judge import PairVerdict, judge_pair, summarise
from hef_graph.lab.evaluation.systems import as_messages
from hef_graph.llm.letters import LetterScoringRuntime
from hef_graph.replies import clean_reply


def main() -> None:
    """Reply with every variant's notes, judge each against the framed reply, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=Path, required=True)
    parser.add_argument("--per-label", type=int, default=1)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--llm", default=None, help="LLM spec (default: the default LLM)")
    parser.add_argument("--judge", default="llama.cpp:qwen1.5b", help="LLM spec of the local judge, or 'none'")
    parser.add_argument("--noted-by", default=None, help="keep dialogues where this variant gives a note or opener")
    parser.add_argument("--predictions", type=Path, default=None, help="JSONL records for hef rate-export")
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--replies", type=Path, default=None, help="JSONL of every reply, for reading")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    variants: dict[str, dict[str, Any]] = json.loads(args.variants.read_text())
    llm, context = load_llm(args.llm), Context()
    judge = None if args.judge == "none" else load_llm(args.judge)
    if judge is not None and not isinstance(judge, LetterScoringRuntime):
        parser.error(f"{judge.name} gives no log-probabilities to judge with")
    graph = build_graph(llm=llm, sem=load_sem(), reply=False)
    samples = stratified_sample(load_samples(args.data_dir, "valid"), args.per_label, args.seed)
    verdicts: dict[str, list[PairVerdict]] = {name: [] for name in variants}
    rows: list[dict[str, Any]] = []
    gates_of = {name: replace(context, **{"reply_notes": "on", "reply_opener": False, **gates}).guidance_gates(llm)
                for name, gates in variants.items()}  # fmt: skip
    for sample in samples:
        state = graph.invoke({"messages": as_messages(sample.context)}, context=context)
        noted = {name: compose_guidance(state["sem_distribution"], str(state["emotion"]), sample.context,
                                        state["cause_words"], gates) for name, gates in gates_of.items()}  # fmt: skip
        if args.noted_by and not (noted[args.noted_by]["notes"] or noted[args.noted_by]["opener"]):
            continue
        framed = clean_reply(llm.reply(reply_messages(sample.context, [], context.max_prompt_chars),
                                       context.reply_caps(), context.call_policy()))  # fmt: skip
        row: dict[str, Any] = {"sample_id": sample.sample_id, "gold": sample.emotion, "emotion": state["emotion"],
                               "context": list(sample.context), "framed": framed, "variants": {}}  # fmt: skip
        for name, guidance in noted.items():
            reply = framed
            if guidance["notes"] or guidance["opener"]:
                messages = reply_messages(sample.context, guidance["notes"], context.max_prompt_chars)
                reply = clean_reply(llm.reply(messages, context.reply_caps(guidance["opener"]), context.call_policy()))
            judged = judge is not None and reply != framed
            verdict = (judge_pair(judge, sample.sample_id, name, sample.context, reply, framed) if judged
                       else PairVerdict(sample.sample_id, name, 0.5, 0.5))  # fmt: skip
            verdicts[name].append(verdict)
            row["variants"][name] = {"notes": guidance["notes"], "opener": guidance["opener"], "reply": reply,
                                     "outcome": verdict.outcome}  # fmt: skip
        rows.append(row)
        if args.replies:
            args.replies.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        if args.predictions:
            args.predictions.write_text("".join(json.dumps(r) + "\n" for r in as_records(rows)), encoding="utf-8")
    report = {"split": "valid", "samples": len(rows), "seed": args.seed, "llm": llm.name,
              "judge": judge.name if judge else None,
              "variants": {name: {"gates": variants[name],
                                  "vs_llm_framed": judge and summarise(verdicts[name], judge.name),
                                  "with_notes": sum(bool(r["variants"][name]["notes"]) for r in rows),
                                  "with_opener": sum(bool(r["variants"][name]["opener"]) for r in rows)}
                           for name in variants}}  # fmt: skip
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


def as_records(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row's framed and variant replies as ``hef eval``-style records.

    A variant's notes and opener go in its guidance, which ``rate-score --noted-by`` and ``writer-export`` read.
    """
    records = []
    for row in rows:
        common = {"sample_id": row["sample_id"], "gold": row["gold"], "emotion": row["emotion"],
                  "context": row["context"]}  # fmt: skip
        records.append(common | {"system": "framed", "reply": row["framed"]})
        records += [common | {"system": name, "reply": v["reply"],
                              "guidance": {"notes": v["notes"], "opener": v["opener"]}}
                    for name, v in row["variants"].items()]  # fmt: skip
    return records


if __name__ == "__main__":
    main()
