"""Choose the LLM weight of the scored judgement on ED *valid* (test stays for reporting).

For each sample the LLM's log-likelihoods of stage one's and stage two's candidates are computed once,
then HEF's decision is replayed for every weight. Prints accuracy per weight (and the SEM's own).

Run: python benchmarks/tune_llm_weight.py --per-label 10 --seed 1 --out docs/tune_llm_weight.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hef_graph.context import Context
from hef_graph.judging import combine, stage_one_prior
from hef_graph.lab.data import default_data_dir, load_samples, stratified_sample
from hef_graph.labels import EMOTIONS, NONE_OF_THESE
from hef_graph.llm import load_llm
from hef_graph.sem.resident import load_sem

WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)


def main() -> None:
    """Score once, replay every weight."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-label", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--top-k", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--llm", default=None, help="LLM spec as for load_llm (default: the embedded SmolLM2)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    samples = stratified_sample(load_samples(args.data_dir, "valid"), args.per_label, args.seed)
    sem, llm, context = load_sem(), load_llm(args.llm), Context()
    if not llm.capabilities.score_labels:
        parser.error(f"{llm.name} gives no log-probabilities to score with")
    correct = dict.fromkeys(WEIGHTS, 0)
    stage_two = dict.fromkeys(WEIGHTS, 0)
    sem_correct = 0
    for sample in samples:
        row = sem.predict_proba([list(sample.context)])[0]
        distribution = dict(zip(EMOTIONS, row.tolist(), strict=True))
        primary = sorted(EMOTIONS, key=lambda label: -distribution[label])[: args.top_k]
        rest = [label for label in EMOTIONS if label not in primary]
        prior_one = stage_one_prior(distribution, primary)
        prior_two = {label: distribution[label] for label in rest}
        first = llm.option_log_likelihoods(context.judgement_request("primary", sample.context, prior_one))
        second = llm.option_log_likelihoods(context.judgement_request("fallback", sample.context, prior_two))
        sem_correct += primary[0] == sample.emotion
        for weight in WEIGHTS:
            posterior = combine(prior_one, first, weight)
            choice = max(posterior, key=posterior.__getitem__)
            if choice == NONE_OF_THESE:
                stage_two[weight] += 1
                posterior = combine(prior_two, second, weight)
                choice = max(posterior, key=posterior.__getitem__)
            correct[weight] += choice == sample.emotion
    n = len(samples)
    report = {"split": "valid", "samples": n, "seed": args.seed, "sem_accuracy": sem_correct / n,
              "accuracy": {str(w): c / n for w, c in correct.items()},
              "stage_two_rate": {str(w): c / n for w, c in stage_two.items()}}  # fmt: skip
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
