"""The SEM's lexical member: TF-IDF word n-grams scored by a linear head per label.

Alone it is weak (about 43% top-1 on ED test), but its mistakes differ from the fine-tuned encoders', so
adding its log-probabilities to theirs lifts the ensemble (docs/results.md). It is fitted in the lab with
scikit-learn (``hef_graph/lab/fit_lexical.py``) and saved without pickle: the vocabulary as JSON, the IDF
weights and the head (``int8.py`` rows) as safetensors. Inference here is plain numpy and follows
scikit-learn's ``TfidfVectorizer`` exactly (lower-cased tokens of two or more word characters, their
bigrams, ``1 + log(count)``, times IDF, L2-normalised), so the runtime needs no scikit-learn.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from hef_graph.sem.int8 import from_int8_rows, to_int8_rows
from hef_graph.sem.probabilities import log_softmax

WEIGHTS_FILE = "lexical.safetensors"
VOCABULARY_FILE = "lexical_vocabulary.json"
TOKEN = re.compile(r"(?u)\b\w\w+\b")
"""scikit-learn's default token pattern: runs of two or more word characters."""


def word_ngrams(text: str) -> list[str]:
    """The text's lower-cased tokens followed by its bigrams (the vectorizer's ``ngram_range=(1, 2)``)."""
    tokens = TOKEN.findall(text.lower())
    return tokens + [f"{first} {second}" for first, second in zip(tokens, tokens[1:], strict=False)]


@dataclass
class LexicalMember:
    """TF-IDF features of the joined dialogue text, scored by a linear head per label."""

    vocabulary: dict[str, int]
    """n-gram -> feature index."""
    idf: np.ndarray
    """(features,) inverse document frequencies."""
    weights: np.ndarray
    """(labels, features) head weights."""
    bias: np.ndarray
    """(labels,) head intercepts."""

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The text's non-zero TF-IDF features as (indices, L2-normalised values)."""
        counts = Counter(index for gram in word_ngrams(text) if (index := self.vocabulary.get(gram)) is not None)
        indices = np.fromiter(counts, dtype=np.int64, count=len(counts))
        values = (1 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * self.idf[indices]
        norm = np.linalg.norm(values)
        return indices, values / norm if norm else values

    def log_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Log-probabilities, shape (n, labels)."""
        scores = np.empty((len(texts), len(self.bias)), dtype=np.float64)
        for row, text in enumerate(texts):
            indices, values = self.features(text)
            scores[row] = self.weights[:, indices] @ values + self.bias
        return log_softmax(scores)

    def save(self, folder: Path) -> None:
        """Write the vocabulary in feature order and the quantised head beside it."""
        vocabulary = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        (folder / VOCABULARY_FILE).write_text(json.dumps(vocabulary, ensure_ascii=False))
        weights_int8, scales = to_int8_rows(torch.from_numpy(self.weights))
        tensors = {
            "weights_int8": weights_int8,
            "scales": scales,
            "bias": torch.from_numpy(self.bias.astype(np.float32)),
            "idf": torch.from_numpy(self.idf.astype(np.float32)),
        }
        save_file(tensors, str(folder / WEIGHTS_FILE))

    @classmethod
    def load(cls, folder: Path) -> LexicalMember:
        """Read the saved vocabulary, IDF and int8 head."""
        vocabulary = json.loads((folder / VOCABULARY_FILE).read_text())
        tensors = load_file(str(folder / WEIGHTS_FILE))
        weights = from_int8_rows(tensors["weights_int8"], tensors["scales"]).numpy()
        return cls(
            {term: i for i, term in enumerate(vocabulary)},
            tensors["idf"].numpy().astype(np.float64),
            weights.astype(np.float64),
            tensors["bias"].numpy().astype(np.float64),
        )
