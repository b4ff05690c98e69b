"""Fit the SEM's lexical member with scikit-learn (the lab's job; the runtime scores it with numpy)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from hef_graph.sem.lexical import TOKEN, LexicalMember


def fit_lexical(
    texts: Sequence[str],
    labels: Sequence[int],
    num_labels: int,
    max_features: int = 50_000,
    regularisation: float = 4.0,
) -> LexicalMember:
    """Fit the vocabulary (1-2-grams seen at least twice), its IDF and the head on training texts."""
    vectorizer = tfidf_vectorizer(max_features)
    features = vectorizer.fit_transform(texts)
    head = LogisticRegression(C=regularisation, max_iter=2000).fit(features, labels)
    vocabulary = {term: int(index) for term, index in vectorizer.vocabulary_.items()}
    return LexicalMember(vocabulary, vectorizer.idf_.astype(np.float64), *label_head(head, num_labels))


def tfidf_vectorizer(max_features: int = 50_000) -> TfidfVectorizer:
    """The vectorizer whose transform ``LexicalMember.features`` reproduces."""
    return TfidfVectorizer(
        min_df=2, max_features=max_features, ngram_range=(1, 2), sublinear_tf=True, token_pattern=TOKEN.pattern
    )


def label_head(model: LogisticRegression, num_labels: int) -> tuple[np.ndarray, np.ndarray]:
    """Return a fitted logistic regression as (num_labels, features) weights and (num_labels,) biases.

    Rows follow label indices even when some labels were missing from the training data (they get a
    very low bias), and a two-class model is written as the equivalent two-row softmax.
    """
    coef, intercept = model.coef_, model.intercept_
    if len(model.classes_) == 2:
        coef, intercept = np.vstack([-coef, coef]) / 2, np.array([-intercept[0], intercept[0]]) / 2
    weights = np.zeros((num_labels, coef.shape[1]), dtype=np.float64)
    bias = np.full(num_labels, -30.0, dtype=np.float64)
    weights[model.classes_] = coef
    bias[model.classes_] = intercept
    return weights, bias
