"""Two ways past the cause tagger's plateau, tried on RECCON-DD valid (test is never read here).

- ``sem-init``: train the tagger from one of the SEM's fine-tuned encoders instead of the plain MiniLM, in
  case ED's emotion training helps it find causes. The member's encoder is written as a Hugging Face folder,
  then ``hef train-cause-tagger``'s own training runs on it with the default settings (resumable as usual).
- ``ensemble``: the mean of several taggers' word scores, decoded as the shipped tagger decodes its own. It
  bounds what averaging taggers (or distilling them into one) could add.

Run:
    python benchmarks/tagger_variants.py sem-init --member 2 --output-dir runs/tagger_sem_member2
    python benchmarks/tagger_variants.py ensemble hef_graph/resources/cause_tagger runs/tagger_full6 \
        runs/tagger_sem_member2 --out docs/causes/ensemble_valid.json

A tagger folder trained by ``sem-init`` is read on top of its member's encoder (``base_encoder`` below).
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
from pathlib import Path

import numpy as np

from hef_graph.lab.data import default_data_dir
from hef_graph.lab.evaluation.causes import tagger_word_scores
from hef_graph.lab.sem_eval import CauseCase, reccon_cases, span_agreement
from hef_graph.lab.train_cause_tagger import TaggerTraining, train_cause_tagger
from hef_graph.sem.cause_tagger import CauseTagger, TaggerInput, top_words
from hef_graph.sem.classifier import EmotionClassifier
from hef_graph.sem.encoder import default_base_model
from hef_graph.sem.resident import shipped_sem_dir

BASE_FOLDER = "sem_member_encoder"
"""Where ``sem-init`` writes the member's encoder, inside the run's output folder."""


def export_sem_member(member: int, folder: Path) -> Path:
    """Write the shipped SEM's encoder ``member`` (with MiniLM's tokenizer) as a Hugging Face model folder."""
    from transformers import AutoTokenizer

    sem = EmotionClassifier.from_pretrained(shipped_sem_dir(), device="cpu")
    sem.members[member].transformer.save_pretrained(folder)
    AutoTokenizer.from_pretrained(str(default_base_model()), local_files_only=True).save_pretrained(folder)
    return folder


def base_encoder(tagger_dir: Path) -> Path:
    """The encoder a tagger folder was trained on: its run's exported SEM member, else the plain MiniLM."""
    exported = tagger_dir / BASE_FOLDER
    return exported if exported.exists() else default_base_model()


def ensemble_f1(cases: list[CauseCase], scores: list[list[dict[int, float]]], words: int) -> dict[str, float]:
    """Agreement of the top words by mean score over the given taggers (one tagger: its own words)."""
    picked = []
    for i, case in enumerate(cases):
        mean = {index: float(np.mean([run[i][index] for run in scores])) for index in scores[0][i]}
        picked.append([w.span for w in top_words(TaggerInput.of(case.turns, case.target), mean, words)])
    return span_agreement(cases, picked, ks=(1, 3, 5))


def main() -> None:
    """Run one of the two experiments."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    commands = parser.add_subparsers(dest="command", required=True)
    sem_init = commands.add_parser("sem-init", help="train the tagger from an SEM member's encoder")
    sem_init.add_argument("--member", type=int, default=2)
    sem_init.add_argument("--output-dir", type=Path, required=True)
    ensemble = commands.add_parser("ensemble", help="valid F1 of every combination of the given taggers")
    ensemble.add_argument("taggers", type=Path, nargs="+")
    ensemble.add_argument("--words", type=int, default=5)
    ensemble.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    data_dir = args.data_dir or default_data_dir()
    if args.command == "sem-init":
        base = args.output_dir / BASE_FOLDER
        if not base.exists():
            export_sem_member(args.member, base)
        record = train_cause_tagger(data_dir, args.output_dir, base, TaggerTraining())
        print(json.dumps([(e["epoch"], round(e["f1"], 4)) for e in record["epochs"]]))
        return
    cases = reccon_cases(data_dir, "valid")
    scores = [tagger_word_scores(CauseTagger.from_pretrained(d, base_encoder(d)), cases) for d in args.taggers]
    report = {"split": "valid", "targets": len(cases), "words": args.words, "combinations": []}
    for size in range(1, len(scores) + 1):
        for combo in itertools.combinations(range(len(scores)), size):
            result = ensemble_f1(cases, [scores[i] for i in combo], args.words)
            report["combinations"].append({"taggers": [str(args.taggers[i]) for i in combo]} | result)
            print(f"F1 {result['f1']:.4f}  {' + '.join(str(args.taggers[i]) for i in combo)}")
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
