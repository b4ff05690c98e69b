"""Choose the LLM weight and log-ratio cap of the scored judgement on ED *valid* (test stays for reporting).

For each sample the LLM's log-likelihoods of stage one's candidates are computed once (stage two's only if
some setting reaches it), then HEF's decision is replayed for every weight and cap. Prints accuracy per
setting (and the SEM's own), how often stage one is settled by the SEM's margin without the LLM, and the
chosen setting (the best accuracy; ties go to the smaller weight, then the smaller cap): pass it to the graph
as ``Context(llm_weight=..., llm_log_ratio_cap=...)``.

Run: python benchmarks/tune_llm_weight.py --per-label 10 --seed 1 --weights 0.1,0.2,0.3 --caps inf,1,2,4 \
    --out docs/tune_llm_cap.json
Your own served LLM (one that returns log-probabilities, e.g. vLLM or llama.cpp's server):
    python benchmarks/tune_llm_weight.py --llm openai:MODEL --base-url http://HOST:PORT/v1 --per-label 5 \
    --seed 34 --caps 2 --out runs/tune_llm_weight_MODEL.json
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import replace
from pathlib import Path

from hef_graph.context import Context
from hef_graph.judging import combine, stage_one_prior
from hef_graph.lab.data import DialogueSample, default_data_dir, load_samples, stratified_sample
from hef_graph.labels import EMOTIONS, NONE_OF_THESE
from hef_graph.llm import load_llm
from hef_graph.llm.runtime import LLMRuntime, NoLogProbabilities
from hef_graph.sem.protocol import EmotionModel
from hef_graph.sem.resident import load_sem

WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)


def best(posterior: dict[str, float]) -> str:
    """The candidate with the highest posterior."""
    return max(posterior, key=posterior.__getitem__)


def numbers(text: str) -> tuple[float, ...]:
    """A comma-separated list of numbers ('inf' allowed)."""
    return tuple(float(part) for part in text.split(","))


def main() -> None:
    """Score once, replay every weight."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-label", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--top-k", type=int, default=3)
    parser.add_argument("--weights", type=numbers, default=WEIGHTS)
    parser.add_argument("--caps", type=numbers, default=(math.inf,), help="log-ratio caps, e.g. inf,2,4,6")
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--llm", default=None, help="LLM spec as for load_llm (default: the default LLM)")
    parser.add_argument("--base-url", default=None, help="OpenAI-compatible server of an openai:<model> spec")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    samples = stratified_sample(load_samples(args.data_dir, "valid"), args.per_label, args.seed)
    sem, llm, context = load_sem(), load_llm(args.llm, base_url=args.base_url), Context()
    if not llm.capabilities.score_labels:
        parser.error(f"{llm.name} gives no log-probabilities to score with")
    try:
        report = replay(samples, sem, llm, context, args)
    except NoLogProbabilities as missing:
        parser.error(f"{missing}: the scored judgement needs a server that returns logprobs")
    print(json.dumps(report, indent=2))
    print(f"chosen: {report['chosen']}")
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


def replay(
    samples: list[DialogueSample], sem: EmotionModel, llm: LLMRuntime, context: Context, args: argparse.Namespace
) -> dict:
    """Every setting's accuracy on ``samples``, each LLM asked once per stage and sample."""
    settings = [(weight, cap) for weight in args.weights for cap in args.caps]
    correct, stage_two, settled = (dict.fromkeys(settings, 0) for _ in range(3))
    sem_correct = 0
    for sample in samples:
        row = sem.predict_proba([list(sample.context)])[0]
        distribution = dict(zip(EMOTIONS, row.tolist(), strict=True))
        primary = sorted(EMOTIONS, key=lambda label: -distribution[label])[: args.top_k]
        request_one = context.judgement_request("primary", sample.context, stage_one_prior(distribution, primary))
        request_two = context.judgement_request(
            "fallback", sample.context, {label: distribution[label] for label in EMOTIONS if label not in primary}
        )
        first, second = llm.option_log_likelihoods(request_one), None
        sem_correct += primary[0] == sample.emotion
        for weight, cap in settings:
            choice = best(combine(request_one.prior, first, weight, cap))
            setting = replace(request_one, llm_weight=weight, log_ratio_cap=cap)
            settled[weight, cap] += setting.settled_choice() is not None
            if choice == NONE_OF_THESE:
                stage_two[weight, cap] += 1
                second = second or llm.option_log_likelihoods(request_two)
                choice = best(combine(request_two.prior, second, weight, cap))
            correct[weight, cap] += choice == sample.emotion
    n = len(samples)

    def by_setting(counts: dict[tuple[float, float], int]) -> dict[str, float]:
        return {f"weight={w} cap={c}": round(v / n, 4) for (w, c), v in counts.items()}

    weight, cap = max(settings, key=lambda setting: (correct[setting], -setting[0], -setting[1]))
    chosen = {"llm_weight": weight, "llm_log_ratio_cap": cap, "accuracy": round(correct[weight, cap] / n, 4)}
    return {"split": "valid", "samples": n, "seed": args.seed, "llm": llm.name, "sem_accuracy": sem_correct / n,
            "accuracy": by_setting(correct), "stage_one_settled_by_sem": by_setting(settled),
            "stage_two_rate": by_setting(stage_two), "chosen": chosen}  # fmt: skip


if __name__ == "__main__":
    main()
