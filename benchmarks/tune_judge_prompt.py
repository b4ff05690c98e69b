"""Choose stage one's lettered judgement prompt on ED *valid* (test stays for reporting).

Stage one runs on every turn, so its prompt is on the critical path: each of its tokens after the quoted
dialogue costs about 13 ms of prefill on this project's 2-core CPU, and so does every token of the reply's
task that the judgement did not already read. For each variant (a JSON file of name -> template with
$options) this prints HEF's accuracy at the context's LLM weight (stage two, when "none" wins, keeps the
shipped prompt), how often the LLM overrode the SEM's top-1, and the tokens a turn prefills for the
judgement and then for the reply's task.

Run: python benchmarks/tune_judge_prompt.py --variants benchmarks/judge_prompts.json --per-label 10 --seed 1
"""

from __future__ import annotations

import argparse
import json
import string
from pathlib import Path

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from hef_graph import Context, load_llm, load_sem
from hef_graph.dialogue import format_dialogue
from hef_graph.judging import combine, stage_one_prior
from hef_graph.lab.data import default_data_dir, load_samples, stratified_sample
from hef_graph.labels import EMOTIONS, NONE_OF_THESE
from hef_graph.llm.letters import LetterScoringRuntime, lettered_options
from hef_graph.prompting import lettered_options_text, render_prompt


def variant_messages(template: str, dialogue: str, options: dict[str, str]) -> list[BaseMessage]:
    """A stage-one prompt with a candidate wording after the quoted dialogue."""
    quoted = render_prompt("dialogue_block", dialogue=dialogue)
    task = string.Template(template).substitute(options=lettered_options_text(options))
    return [SystemMessage(render_prompt("system")), HumanMessage(f"{quoted}\n{task}")]


def shared_tokens(llm: LetterScoringRuntime, first: str, second: str) -> int:
    """Leading tokens two task texts have in common (a reply after the judgement skips their prefill)."""
    a, b = (llm.chat_model.llama.tokenize(t.encode(), add_bos=False, special=False) for t in (first, second))
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def main() -> None:
    """Judge stage one with every variant on the same samples; print accuracy and prefill tokens."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=Path, required=True)
    parser.add_argument("--per-label", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--llm", default=None, help="LLM spec (default: the default LLM; must score letters)")
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    variants: dict[str, str] = json.loads(args.variants.read_text())
    llm, sem, context = load_llm(args.llm), load_sem(), Context()
    if not isinstance(llm, LetterScoringRuntime):
        parser.error(f"{llm.name} does not score lettered options")
    samples = stratified_sample(load_samples(args.data_dir, "valid"), args.per_label, args.seed)
    counts = {name: {"correct": 0, "overrides": 0, "stage_two": 0} for name in variants}
    sem_correct = 0
    for sample in samples:
        distribution = dict(zip(EMOTIONS, sem.predict_proba([list(sample.context)])[0].tolist(), strict=True))
        primary = sorted(EMOTIONS, key=lambda label: -distribution[label])[: context.top_k]
        prior = stage_one_prior(distribution, primary)
        dialogue = format_dialogue(sample.context, context.max_prompt_chars)
        options = lettered_options(list(prior), prior)
        second: str | None = None
        sem_correct += primary[0] == sample.emotion
        for name, template in variants.items():
            letters = llm.letter_log_probs(variant_messages(template, dialogue, options), list(options))
            likelihoods = {label: letters[letter] for letter, label in options.items()}
            posterior = combine(prior, likelihoods, context.llm_weight)
            choice = max(posterior, key=posterior.__getitem__)
            if choice == NONE_OF_THESE:
                counts[name]["stage_two"] += 1
                if second is None:  # the shipped stage two, asked once per sample
                    rest = {label: distribution[label] for label in EMOTIONS if label not in primary}
                    request = context.judgement_request("fallback", sample.context, rest)
                    second = llm.judge(request, context.call_policy())["choice"]
                choice = second
            counts[name]["overrides"] += choice != primary[0]
            counts[name]["correct"] += choice == sample.emotion
    example = dict(zip("ABCD", ["sad", "lonely", "devastated", NONE_OF_THESE], strict=True))
    reply_task = render_prompt("draft_response", notes="")
    report = {"split": "valid", "samples": len(samples), "seed": args.seed, "llm": llm.name,
              "llm_weight": context.llm_weight, "sem_accuracy": round(sem_correct / len(samples), 4),
              "variants": {}}  # fmt: skip
    for name, template in variants.items():
        task = string.Template(template).substitute(options=lettered_options_text(example))
        shared = shared_tokens(llm, task, reply_task)
        report["variants"][name] = {
            "accuracy": round(counts[name]["correct"] / len(samples), 4),
            "overrides_of_sem_top1": counts[name]["overrides"],
            "stage_two_runs": counts[name]["stage_two"],
            "judgement_task_tokens": llm.count_tokens(task),
            "reply_task_tokens_after_it": llm.count_tokens(reply_task) - shared,
        }
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
