"""Choose the guidance gates on ED *valid*: how often each note would be given, and how often it would be right.

(``--split test`` reads the same tables off ED test once, to report the chosen gates' precision there.)

The SEM reads every sampled valid dialogue once. For each threshold the table gives the share of dialogues
whose note passes the gate (coverage) and, of those, the share whose note agrees with the gold label
(precision): the emotion note names the SEM's top-1 (the final emotion in about 97% of turns, since stage
one rarely overrides it), and the valence note names the side of ``hef_graph.labels.VALENCE`` with the mass.
A valence note on a dialogue whose gold label is ambiguous (surprised, ...) counts as neither right nor
wrong, and such dialogues are reported apart. The move note names the top-1's listener move
(``hef_graph.labels.LISTENER_MOVE``), gated by the SEM's mass on that move's labels; it is right when the gold
label shares the move. The cause gate is reported as coverage only (ED has no spans).

Run: python benchmarks/tune_guidance_gates.py --per-label 30 --seed 2 --out docs/tune_guidance_gates.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hef_graph import load_sem
from hef_graph.guidance import likely_valence, move_mass, speaker_clause
from hef_graph.lab.data import default_data_dir, load_samples, stratified_sample
from hef_graph.labels import LISTENER_MOVE, VALENCE
from hef_graph.sem.resident import load_cause_tagger
from hef_graph.sem.tool import tagged_causes

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)


def gate_table(scores: list[float], right: list[bool | None]) -> dict[str, dict[str, float | None]]:
    """Coverage and precision of a note given when its score reaches each threshold (None: not judged)."""
    table: dict[str, dict[str, float | None]] = {}
    for threshold in THRESHOLDS:
        given = [r for s, r in zip(scores, right, strict=True) if s >= threshold]
        judged = [r for r in given if r is not None]
        table[str(threshold)] = {
            "coverage": round(len(given) / len(scores), 3),
            "precision": round(sum(judged) / len(judged), 3) if judged else None,
        }
    return table


def main() -> None:
    """Read the valid sample with the SEM and the tagger, print and save the gate tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-label", type=int, default=30)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--split", choices=("valid", "test"), default="valid")
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    sem, tagger = load_sem(), load_cause_tagger()
    samples = stratified_sample(load_samples(args.data_dir, args.split), args.per_label, args.seed)
    label_scores, label_right, valence_scores, valence_right, cause_scores = [], [], [], [], []
    move_scores, move_right = [], []
    for sample in samples:
        row = sem.predict_proba([list(sample.context)])[0]
        distribution = {label: float(p) for label, p in zip(sem.labels, row, strict=True)}
        top1 = max(distribution, key=distribution.__getitem__)
        label_scores.append(distribution[top1])
        label_right.append(top1 == sample.emotion)
        move_scores.append(move_mass(distribution, LISTENER_MOVE[top1]))
        move_right.append(LISTENER_MOVE[top1] == LISTENER_MOVE[sample.emotion])
        side, mass = likely_valence(distribution, 0.0)
        valence_scores.append(mass)
        valence_right.append(None if VALENCE[sample.emotion] == "ambiguous" else side == VALENCE[sample.emotion])
        causes = tagged_causes(tagger, sample.context, top1, 5)
        cause_scores.append(speaker_clause(sample.context, causes)[1])  # type: ignore[arg-type]
    report = {
        "split": args.split, "samples": len(samples), "per_label": args.per_label, "seed": args.seed,
        "ambiguous_gold_share": round(sum(r is None for r in valence_right) / len(samples), 3),
        "emotion_gate": gate_table(label_scores, label_right),
        "valence_gate": gate_table(valence_scores, valence_right),
        "move_gate": gate_table(move_scores, move_right),
        "cause_gate": gate_table(cause_scores, [None] * len(samples)),
    }  # fmt: skip
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
