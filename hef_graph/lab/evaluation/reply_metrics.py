"""Reply metrics with the field's definitions (CEM's Dist-n, nltk BLEU) plus local embedding scores."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

import numpy as np
from nltk.stem import PorterStemmer
from nltk.tokenize import NLTKWordTokenizer
from nltk.translate.bleu_score import SmoothingFunction, corpus_bleu

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_TOKENIZER = NLTKWordTokenizer()
_STEMMER = PorterStemmer()


def word_tokens(text: str) -> list[str]:
    """Return nltk's Treebank word tokens, sentence by sentence (``word_tokenize`` without the punkt download)."""
    return [token for sentence in _SENTENCE.split(text.strip()) for token in _TOKENIZER.tokenize(sentence)]


def distinct_n(replies: Sequence[str], n: int) -> float:
    """CEM's Dist-n: distinct n-grams over all n-grams of the corpus, x100 (lower-cased nltk tokens)."""
    grams = []
    for reply in replies:
        tokens = [t.lower() for t in word_tokens(reply)]
        grams += [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return 100.0 * len(set(grams)) / len(grams) if grams else 0.0


def bleu(replies: Sequence[str], references: Sequence[str], n: int) -> float:
    """Corpus BLEU-n (uniform weights up to n) with nltk's smoothing method1, x100."""
    hypotheses = [[t.lower() for t in word_tokens(r)] for r in replies]
    refs = [[[t.lower() for t in word_tokens(r)]] for r in references]
    weights = tuple([1.0 / n] * n)
    return 100.0 * corpus_bleu(refs, hypotheses, weights=weights, smoothing_function=SmoothingFunction().method1)


def mean_length(replies: Sequence[str]) -> float:
    """Mean reply length in nltk word tokens."""
    return float(np.mean([len(word_tokens(r)) for r in replies])) if replies else 0.0


def cause_coverage(reply: str, cause_words: Sequence[str]) -> float | None:
    """Share of cause words whose Porter stem appears among the reply's stems (None without causes)."""
    if not cause_words:
        return None
    stems = {_STEMMER.stem(t.lower()) for t in word_tokens(reply)}
    return sum(_STEMMER.stem(w.lower()) in stems for w in cause_words) / len(cause_words)


@cache
def _encoder():
    from sentence_transformers import SentenceTransformer

    from hef_graph.sem.encoder import default_base_model

    return SentenceTransformer(str(default_base_model()), device="cpu", local_files_only=True)


def embedding_similarity(replies: Sequence[str], references: Sequence[str]) -> list[float]:
    """Cosine similarity of all-MiniLM-L6-v2 sentence embeddings, reply against reference."""
    encoder = _encoder()
    a = encoder.encode(list(replies), normalize_embeddings=True, batch_size=64)
    b = encoder.encode(list(references), normalize_embeddings=True, batch_size=64)
    return [float(x) for x in (a * b).sum(1)]


def bertscore_f1(replies: Sequence[str], references: Sequence[str]) -> list[float]:
    """BERTScore F1 (greedy token matching, no idf, no rescaling) on all-MiniLM-L6-v2's last layer."""
    encoder = _encoder()
    hyp = encoder.encode(list(replies), output_value="token_embeddings", batch_size=64)
    ref = encoder.encode(list(references), output_value="token_embeddings", batch_size=64)
    scores = []
    for h, r in zip(hyp, ref, strict=True):
        h = h[1:-1] if len(h) > 2 else h  # drop [CLS]/[SEP]
        r = r[1:-1] if len(r) > 2 else r
        h = h / h.norm(dim=1, keepdim=True)
        r = r / r.norm(dim=1, keepdim=True)
        similarity = h @ r.T
        precision = similarity.max(1).values.mean().item()
        recall = similarity.max(0).values.mean().item()
        scores.append(2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0)
    return scores
