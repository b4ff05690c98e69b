"""The SEM's lexical member: TF-IDF word n-grams and a logistic-regression head.

Alone it is weak (about 43% top-1 on ED test), but its mistakes differ from the fine-tuned encoders', so
adding its log-probabilities to theirs lifts the ensemble (docs/results.md). It is saved without pickle:
the vocabulary as JSON, the IDF weights and the head (``int8.py`` rows) as safetensors.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from hef_graph.metrics import log_softmax
from hef_graph.sem.int8 import from_int8_rows, to_int8_rows

WEIGHTS_FILE = "lexical.safetensors"
VOCABULARY_FILE = "lexical_vocabulary.json"
_VECTORIZER_SETTINGS = {"ngram_range": (1, 2), "sublinear_tf": True, "dtype": np.float32}


@dataclass
class LexicalMember:
    """TF-IDF features of the joined dialogue text, scored by a linear head per label."""

    vectorizer: TfidfVectorizer
    weights: np.ndarray
    """(labels, features) head weights."""
    bias: np.ndarray
    """(labels,) head intercepts."""

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        labels: Sequence[int],
        num_labels: int,
        max_features: int = 50_000,
        regularisation: float = 4.0,
    ) -> LexicalMember:
        """Fit the vocabulary (1-2-grams seen at least twice) and the head on training texts."""
        vectorizer = TfidfVectorizer(min_df=2, max_features=max_features, **_VECTORIZER_SETTINGS)
        features = vectorizer.fit_transform(texts)
        head = LogisticRegression(C=regularisation, max_iter=2000).fit(features, labels)
        return cls(vectorizer, *label_head(head, num_labels))

    def log_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Log-probabilities, shape (n, labels)."""
        scores = self.vectorizer.transform(texts) @ self.weights.T + self.bias
        return log_softmax(np.asarray(scores, dtype=np.float64))

    def save(self, folder: Path) -> None:
        """Write the vocabulary in feature order and the quantised head beside it."""
        vocabulary = sorted(self.vectorizer.vocabulary_, key=self.vectorizer.vocabulary_.__getitem__)
        (folder / VOCABULARY_FILE).write_text(json.dumps(vocabulary, ensure_ascii=False))
        weights_int8, scales = to_int8_rows(torch.from_numpy(self.weights))
        tensors = {
            "weights_int8": weights_int8,
            "scales": scales,
            "bias": torch.from_numpy(self.bias.astype(np.float32)),
            "idf": torch.from_numpy(self.vectorizer.idf_.astype(np.float32)),
        }
        save_file(tensors, str(folder / WEIGHTS_FILE))

    @classmethod
    def load(cls, folder: Path) -> LexicalMember:
        """Rebuild the vectorizer from its saved vocabulary and IDF, and the head from its int8 rows."""
        vocabulary = json.loads((folder / VOCABULARY_FILE).read_text())
        tensors = load_file(str(folder / WEIGHTS_FILE))
        vectorizer = TfidfVectorizer(vocabulary={term: i for i, term in enumerate(vocabulary)}, **_VECTORIZER_SETTINGS)
        vectorizer.idf_ = tensors["idf"].numpy()
        weights = from_int8_rows(tensors["weights_int8"], tensors["scales"]).numpy()
        return cls(vectorizer, weights, tensors["bias"].numpy())


def label_head(model: LogisticRegression, num_labels: int) -> tuple[np.ndarray, np.ndarray]:
    """Return a fitted logistic regression as (num_labels, features) weights and (num_labels,) biases.

    Rows follow label indices even when some labels were missing from the training data (they get a
    very low bias), and a two-class model is written as the equivalent two-row softmax.
    """
    coef, intercept = model.coef_, model.intercept_
    if len(model.classes_) == 2:
        coef, intercept = np.vstack([-coef, coef]) / 2, np.array([-intercept[0], intercept[0]]) / 2
    weights = np.zeros((num_labels, coef.shape[1]), dtype=np.float32)
    bias = np.full(num_labels, -30.0, dtype=np.float32)
    weights[model.classes_] = coef
    bias[model.classes_] = intercept
    return weights, bias
