"""Baselines for the SEM table: TF-IDF + logistic regression, and frozen MiniLM embeddings + LR.

Both train on ED train contexts (the evaluation unit), pick C on valid, and report on test.

Run: python benchmarks/sem_baselines.py --out docs/sem/baselines.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sentence_transformers import SentenceTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from hef_graph.lab.data import default_data_dir, load_samples
from hef_graph.lab.metrics import macro_f1, top_k_accuracy
from hef_graph.labels import EMOTIONS
from hef_graph.sem.encoder import default_base_model
from hef_graph.sem.words import join_dialogue


def texts_and_labels(data_dir: Path, split: str) -> tuple[list[str], list[int]]:
    """Return each sample's joined context and gold label index."""
    samples = load_samples(data_dir, split)
    return [join_dialogue(s.context).text for s in samples], [EMOTIONS.index(s.emotion) for s in samples]


def fit_best(train_x, train_y, valid_x, valid_y, grid: tuple[float, ...]) -> tuple[LogisticRegression, float]:
    """Fit one logistic regression per C and keep the best on valid."""
    best, best_acc, best_c = None, -1.0, 0.0
    for c in grid:
        model = LogisticRegression(C=c, max_iter=2000).fit(train_x, train_y)
        acc = top_k_accuracy(model.predict_proba(valid_x), valid_y, 1)
        if acc > best_acc:
            best, best_acc, best_c = model, acc, c
    return best, best_c


def scores(model: LogisticRegression, x, y: list[int]) -> dict[str, float]:
    """Top-k accuracy and macro-F1 on a split."""
    probabilities = model.predict_proba(x)
    predicted = [EMOTIONS[i] for i in probabilities.argmax(1)]
    return {
        "samples": len(y),
        "top1": top_k_accuracy(probabilities, y, 1),
        "top3": top_k_accuracy(probabilities, y, 3),
        "top5": top_k_accuracy(probabilities, y, 5),
        "macro_f1": macro_f1(predicted, [EMOTIONS[i] for i in y], EMOTIONS),
    }


def main() -> None:
    """Train and score both baselines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--out", type=Path, default=Path("docs/sem/baselines.json"))
    args = parser.parse_args()
    (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = (
        texts_and_labels(args.data_dir, split) for split in ("train", "valid", "test")
    )
    report = {}
    started = time.time()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    train_tfidf = vectorizer.fit_transform(train_x)
    model, c = fit_best(train_tfidf, train_y, vectorizer.transform(valid_x), valid_y, (1.0, 4.0, 16.0))
    report["tfidf_logreg"] = scores(model, vectorizer.transform(test_x), test_y) | {"C": c}
    encoder = SentenceTransformer(str(default_base_model()), device="cpu", local_files_only=True)
    train_e, valid_e, test_e = (
        encoder.encode(x, batch_size=64, normalize_embeddings=True) for x in (train_x, valid_x, test_x)
    )
    model, c = fit_best(train_e, train_y, valid_e, valid_y, (1.0, 4.0, 16.0))
    report["frozen_minilm_logreg"] = scores(model, test_e, test_y) | {"C": c}
    report["seconds"] = round(time.time() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    np.random.seed(0)
    main()
