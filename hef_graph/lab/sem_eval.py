"""Measure the SEM: 32-way accuracy and calibration on ED test, and how right its cause words are.

Cause words are checked two ways, each against a random-word and an attention-word baseline:
RECCON-DD test (human cause spans: token precision/recall/F1 and recall@k) and ERASER
comprehensiveness/sufficiency on ED test (Kim et al. style faithfulness: DeYoung et al., 2020).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hef_graph.lab.data import DialogueSample, load_reccon, load_samples
from hef_graph.lab.metrics import expected_calibration_error, macro_f1, top_k_accuracy
from hef_graph.labels import EMOTIONS
from hef_graph.sem.classifier import EmotionClassifier
from hef_graph.sem.probabilities import softmax
from hef_graph.sem.words import WordSpan, is_content_word, join_dialogue

# RECCON-DD uses DailyDialog's six basic emotions; attribution targets their nearest ED label.
RECCON_TO_ED = {
    "happiness": "joyful", "happy": "joyful", "happines": "joyful", "excited": "excited",
    "surprise": "surprised", "surprised": "surprised", "anger": "angry", "angry": "angry",
    "sadness": "sad", "sad": "sad", "disgust": "disgusted", "fear": "afraid",
}  # fmt: skip

Picker = Callable[[EmotionClassifier, list[list[str]], list[str], int], list[list[WordSpan]]]


@dataclass(frozen=True)
class CauseCase:
    """A dialogue, the label to explain, and (for RECCON) the gold cause words by position."""

    turns: list[str]
    target: str
    gold: frozenset[tuple[int, int]] = frozenset()
    spans: tuple[tuple[int, int, int], ...] = ()
    """The human cause spans as (turn, start, end) character offsets."""


# ----- classification ---------------------------------------------------------------------------


def classification_report(sem: EmotionClassifier, samples: list[DialogueSample]) -> dict[str, Any]:
    """Top-1/3/5 accuracy, macro-F1, ECE before and after temperature scaling, and confusions."""
    gold = [EMOTIONS.index(sample.emotion) for sample in samples]
    logits = sem.logits([list(sample.context) for sample in samples])
    calibrated = softmax(logits / sem.temperature)
    predicted = [EMOTIONS[i] for i in calibrated.argmax(1)]
    confusions = Counter(
        (sample.emotion, label) for sample, label in zip(samples, predicted, strict=True) if sample.emotion != label
    )
    return {
        "samples": len(samples),
        "top1": top_k_accuracy(calibrated, gold, 1),
        "top3": top_k_accuracy(calibrated, gold, 3),
        "top5": top_k_accuracy(calibrated, gold, 5),
        "macro_f1": macro_f1(predicted, [s.emotion for s in samples], EMOTIONS),
        "ece_uncalibrated": expected_calibration_error(softmax(logits), gold),
        "ece_calibrated": expected_calibration_error(calibrated, gold),
        "temperature": sem.temperature,
        "top_confusions": [{"gold": g, "predicted": p, "count": c} for (g, p), c in confusions.most_common(10)],
    }


# ----- word pickers: the SEM's integrated gradients and two baselines ---------------------------


def pick_integrated_gradients(sem: EmotionClassifier, dialogues: list[list[str]], targets: list[str], n: int):
    """The SEM's own cause words (positions kept)."""
    analyses = sem.analyze(dialogues, n=n, targets=targets)
    return [[WordSpan(c.word, c.turn, c.start, c.end) for c in a.causes] for a in analyses]


def pick_random(seed: int) -> Picker:
    """Random distinct content words, seeded."""
    rng = random.Random(seed)

    def pick(sem: EmotionClassifier, dialogues: list[list[str]], targets: list[str], n: int):
        return [rng.sample(content_words(d), min(n, len(content_words(d)))) for d in dialogues]

    return pick


def pick_attention(sem: EmotionClassifier, dialogues: list[list[str]], targets: list[str], n: int):
    """Content words with the most last-layer [CLS] attention (head- and member-averaged)."""
    joined = [join_dialogue(d) for d in dialogues]
    batch = sem._encode(joined)
    scores = torch.zeros(batch["input_ids"].shape)
    for member in sem.members:
        member.transformer.set_attn_implementation("eager")
        with torch.inference_mode():
            output = member.transformer(
                input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], output_attentions=True
            )
        member.transformer.set_attn_implementation("sdpa")
        scores += output.attentions[-1][:, :, 0, :].mean(1).float().cpu()
    picked = []
    for row, item in enumerate(joined):
        per_word: dict[int, float] = {}
        for (start, end), score in zip(batch["offset_mapping"][row].tolist(), scores[row].tolist(), strict=True):
            index = item.word_at(start) if end > start else None
            if index is not None:
                per_word[index] = per_word.get(index, 0.0) + score
        ranked = sorted((i for i in per_word if is_content_word(item.words[i].text)), key=lambda i: -per_word[i])
        picked.append(distinct_words([item.words[i] for i in ranked], n))
    return picked


def content_words(turns: list[str]) -> list[WordSpan]:
    """The dialogue's words that can be cause words (stopwords, numbers and punctuation out)."""
    return [w for w in join_dialogue(turns).words if is_content_word(w.text)]


def distinct_words(words: Sequence[WordSpan], n: int | None = None) -> list[WordSpan]:
    """The first occurrence of each word (case-insensitive), at most ``n`` (None: all)."""
    seen, kept = set(), []
    for word in words:
        if word.text.lower() not in seen:
            seen.add(word.text.lower())
            kept.append(word)
    return kept[:n]


def run_picker(picker: Picker, sem: EmotionClassifier, cases: list[CauseCase], n: int, batch: int = 8):
    """Apply a picker to every case in small batches."""
    picked: list[list[WordSpan]] = []
    for begin in range(0, len(cases), batch):
        chunk = cases[begin : begin + batch]
        picked += picker(sem, [c.turns for c in chunk], [c.target for c in chunk], n)
    return picked


# ----- RECCON-DD: agreement with human cause spans ----------------------------------------------


def reccon_cases(data_dir: Path, split: str) -> list[CauseCase]:
    """Turn every RECCON target into a case: the history up to the target, its ED label, gold span words.

    Gold is the content words inside the human spans; the few targets whose spans hold no content word
    ("Oh , no !") keep all their span words, so every target is scored (no picker can then hit them).
    """
    cases = []
    for row in load_reccon(data_dir, split):
        turns, inside = words_in_spans(row)
        gold = frozenset((w.turn, w.start) for w in inside if is_content_word(w.text))
        everything = frozenset((w.turn, w.start) for w in inside)
        cases.append(CauseCase(turns, RECCON_TO_ED[row["emotion"]], gold or everything, cause_spans(row)))
    return cases


def cause_spans(row: dict) -> tuple[tuple[int, int, int], ...]:
    """A RECCON target's human cause spans as (turn, start, end) character offsets."""
    return tuple((s["turn"], s["start"], s["end"]) for s in row["cause_spans"])


def in_span(word: WordSpan, span: tuple[int, int, int]) -> bool:
    """Whether a word starts inside a (turn, start, end) span."""
    turn, start, end = span
    return word.turn == turn and start <= word.start < end


def words_in_spans(row: dict) -> tuple[list[str], list[WordSpan]]:
    """A RECCON target's turns (history and target) and every word that lies in one of its cause spans."""
    turns = [turn["text"] for turn in row["history"]]
    spans = cause_spans(row)
    return turns, [w for w in join_dialogue(turns).words if any(in_span(w, span) for span in spans)]


def span_agreement(cases: list[CauseCase], picked: list[list[WordSpan]], ks: Sequence[int]) -> dict[str, float]:
    """Token precision/recall/F1 of the picked words (macro over cases), recall@k, hit@k and span overlap.

    Span overlap is the share of a case's human spans that hold at least one picked word.
    """
    precision, recall, f1, overlap = [], [], [], []
    recall_at = {k: [] for k in ks}
    hit_at = {k: [] for k in ks}
    for case, words in zip(cases, picked, strict=True):
        hits = [(w.turn, w.start) in case.gold for w in words]
        p = sum(hits) / len(words) if words else 0.0
        r = sum(hits) / len(case.gold)
        precision.append(p)
        recall.append(r)
        f1.append(2 * p * r / (p + r) if p + r else 0.0)
        for k in ks:
            recall_at[k].append(sum(hits[:k]) / min(k, len(case.gold)))
            hit_at[k].append(float(any(hits[:k])))
        if case.spans:
            touched = [any(in_span(w, span) for w in words) for span in case.spans]
            overlap.append(sum(touched) / len(touched))
    report = {"precision": float(np.mean(precision)), "recall": float(np.mean(recall)), "f1": float(np.mean(f1))}
    report |= {f"recall@{k}": float(np.mean(v)) for k, v in recall_at.items()}
    report |= {f"hit@{k}": float(np.mean(v)) for k, v in hit_at.items()}
    if overlap:
        report["span_overlap"] = float(np.mean(overlap))
    return report


# ----- ERASER faithfulness on ED ----------------------------------------------------------------


def _drop_words(turns: list[str], words: list[WordSpan], keep: bool) -> list[str]:
    """Remove the given words from the dialogue, or (keep=True) keep only them."""
    chosen = {(w.turn, w.start) for w in words}
    result = []
    for index, turn in enumerate(turns):
        spans = join_dialogue([turn]).words
        if keep:
            result.append(" ".join(w.text for w in spans if (index, w.start) in chosen))
        else:
            pieces, cursor = [], 0
            for w in spans:
                if (index, w.start) in chosen:
                    pieces.append(turn[cursor : w.start])
                    cursor = w.end
            result.append("".join(pieces) + turn[cursor:])
    return result


def eraser(sem: EmotionClassifier, cases: list[CauseCase], picked: list[list[WordSpan]]) -> dict[str, float]:
    """Comprehensiveness (probability drop without the words) and sufficiency (drop with only them)."""
    index = [sem.labels.index(c.target) for c in cases]
    rows = np.arange(len(cases))
    full = sem.predict_proba([c.turns for c in cases])[rows, index]
    removed = sem.predict_proba([_drop_words(c.turns, w, keep=False) for c, w in zip(cases, picked, strict=True)])
    only = sem.predict_proba([_drop_words(c.turns, w, keep=True) for c, w in zip(cases, picked, strict=True)])
    return {
        "comprehensiveness": float(np.mean(full - removed[rows, index])),
        "sufficiency": float(np.mean(full - only[rows, index])),
        "probability_kept_with_only_words": float(np.mean(only[rows, index])),
        "probability_full": float(np.mean(full)),
    }


def ed_cases(sem: EmotionClassifier, samples: list[DialogueSample]) -> list[CauseCase]:
    """ED cases explain the SEM's own top-1 label (what the reply is grounded in)."""
    predicted = sem.predict([list(s.context) for s in samples])
    return [CauseCase(list(s.context), label) for s, label in zip(samples, predicted, strict=True)]


# ----- the whole report -------------------------------------------------------------------------


def evaluate_sem(
    sem: EmotionClassifier,
    data_dir: Path,
    n: int = 5,
    cause_sample: int = 500,
    seed: int = 0,
    split: str = "test",
    limit: int | None = None,
) -> dict[str, Any]:
    """Run every SEM measurement on one split and return a JSON-ready report (``limit``: smoke runs)."""
    samples = load_samples(data_dir, split)[:limit]
    report: dict[str, Any] = {"split": split, "n_words": n, "seed": seed}
    report["classification"] = classification_report(sem, samples)
    pickers: dict[str, Picker] = {
        "integrated_gradients": pick_integrated_gradients,
        "attention": pick_attention,
        "random": pick_random(seed),
    }
    reccon = reccon_cases(data_dir, split)[:limit]
    ed = ed_cases(sem, random.Random(seed).sample(samples, min(cause_sample, len(samples))))
    report["reccon"] = {"cases": len(reccon)}
    report["eraser"] = {"cases": len(ed)}
    for name, picker in pickers.items():
        report["reccon"][name] = span_agreement(reccon, run_picker(picker, sem, reccon, n), ks=(1, 3, 5))
        report["eraser"][name] = eraser(sem, ed, run_picker(picker, sem, ed, n))
    return report


def markdown_report(report: dict[str, Any]) -> str:
    """Render the report as markdown tables."""
    c = report["classification"]
    lines = [
        f"## SEM on ED {report['split']} ({c['samples']} samples)",
        "",
        "| top-1 | top-3 | top-5 | macro-F1 | ECE (T=1) | ECE (calibrated) | T |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {c['top1']:.1%} | {c['top3']:.1%} | {c['top5']:.1%} | {c['macro_f1']:.3f} | "
        f"{c['ece_uncalibrated']:.3f} | {c['ece_calibrated']:.3f} | {c['temperature']:.3f} |",
        "",
        "Most frequent confusions (gold → predicted): "
        + ", ".join(f"{x['gold']} → {x['predicted']} ({x['count']})" for x in c["top_confusions"]),
        "",
        f"## Cause words, top {report['n_words']} (RECCON-DD {report['split']}, {report['reccon']['cases']} targets)",
        "",
        "| method | precision | recall | F1 | recall@1 | recall@3 | recall@5 | hit@1 | hit@3 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    methods = [k for k in report["reccon"] if k != "cases"]
    for name in methods:
        r = report["reccon"][name]
        lines.append(
            f"| {name} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | {r['recall@1']:.3f} | "
            f"{r['recall@3']:.3f} | {r['recall@5']:.3f} | {r['hit@1']:.3f} | {r['hit@3']:.3f} |"
        )
    lines += [
        "",
        f"## Cause words, ERASER on ED {report['split']} ({report['eraser']['cases']} samples, seed {report['seed']})",
        "",
        "| method | comprehensiveness ↑ | sufficiency ↓ | p(label) with only the words | p(label) full |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in methods:
        e = report["eraser"][name]
        lines.append(
            f"| {name} | {e['comprehensiveness']:.3f} | {e['sufficiency']:.3f} | "
            f"{e['probability_kept_with_only_words']:.3f} | {e['probability_full']:.3f} |"
        )
    return "\n".join(lines) + "\n"
