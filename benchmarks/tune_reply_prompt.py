"""Choose the reply prompt on ED *valid* (test stays for reporting) with the pairwise judge.

For each sampled dialogue HEF's emotion and cause words are computed once; each candidate draft_response
prompt (a JSON file of name -> template with $emotion and $cause_line) then writes a reply, which the
judge compares with the LLM-alone reply in both orders. Also counted: replies in the second person, replies
that talk about "the Speaker"/"the Listener", and replies that mention a cause word.

Run: python benchmarks/tune_reply_prompt.py --variants benchmarks/reply_prompts.json --per-label 1 --seed 1
"""

from __future__ import annotations

import argparse
import json
import re
import string
from pathlib import Path

from langchain_core.messages import HumanMessage, SystemMessage

from hef_graph import Context, build_graph, load_llm, load_sem
from hef_graph.dialogue import format_dialogue
from hef_graph.lab.data import default_data_dir, load_samples, stratified_sample
from hef_graph.lab.evaluation.judge import judge_pair, summarise
from hef_graph.lab.evaluation.reply_metrics import cause_coverage
from hef_graph.lab.evaluation.systems import as_messages
from hef_graph.llm.letters import LetterScoringRuntime
from hef_graph.prompting import dialogue_prompt, render_prompt
from hef_graph.replies import clean_reply

_SECOND_PERSON = re.compile(r"\byou(r|'re|rs)?\b", re.IGNORECASE)
_THIRD_PARTY = re.compile(r"\bthe (speaker|listener)\b", re.IGNORECASE)


def main() -> None:
    """Reply with every variant, judge each against the LLM alone, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=Path, required=True)
    parser.add_argument("--per-label", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--llm", default=None, help="LLM spec (default: the default LLM)")
    parser.add_argument("--judge", default="llama.cpp:qwen1.5b")
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    variants = json.loads(args.variants.read_text())
    llm, judge, context = load_llm(args.llm), load_llm(args.judge), Context()
    if not isinstance(judge, LetterScoringRuntime):
        parser.error(f"{judge.name} gives no log-probabilities to judge with")
    graph = build_graph(llm=llm, sem=load_sem(), reply=False)
    samples = stratified_sample(load_samples(args.data_dir, "valid"), args.per_label, args.seed)
    verdicts: dict[str, list] = {name: [] for name in variants}
    checks = {name: {"second_person": 0, "third_party": 0, "cause_mentioned": 0, "task_tokens": 0} for name in variants}
    for sample in samples:
        state = graph.invoke({"messages": as_messages(sample.context)}, context=context)
        causes = [c["word"] for c in state["cause_words"]]
        dialogue = format_dialogue(sample.context, context.max_prompt_chars)
        alone = clean_reply(llm.reply(dialogue_prompt("direct_reply", dialogue), context.reply_caps(),
                                      context.call_policy()))  # fmt: skip
        for name, template in variants.items():
            task = string.Template(template).substitute(
                emotion=state["emotion"], cause_line=f", mainly about: {', '.join(causes)}" if causes else ""
            )
            quoted = render_prompt("dialogue_block", dialogue=dialogue)
            messages = [SystemMessage(render_prompt("system")), HumanMessage(f"{quoted}\n{task}")]
            reply = clean_reply(llm.reply(messages, context.reply_caps(), context.call_policy()))
            verdicts[name].append(judge_pair(judge, sample.sample_id, name, sample.context, reply, alone))
            checks[name]["second_person"] += bool(_SECOND_PERSON.search(reply))
            checks[name]["third_party"] += bool(_THIRD_PARTY.search(reply))
            checks[name]["cause_mentioned"] += bool(cause_coverage(reply, causes))
            checks[name]["task_tokens"] += llm.count_tokens(task) / len(samples)  # the prompt part a reply prefills
    report = {"split": "valid", "samples": len(samples), "seed": args.seed, "llm": llm.name, "judge": judge.name,
              "variants": {name: {"vs_llm_alone": summarise(verdicts[name], judge.name), **checks[name]}
                           for name in variants}}  # fmt: skip
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
