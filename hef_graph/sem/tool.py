"""The SEM as a LangChain tool: HEF's detect_emotion node calls it, and any agent can too."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.tools import BaseTool
from pydantic import BaseModel, ConfigDict, Field

from hef_graph.sem.protocol import CauseFinder, EmotionModel
from hef_graph.sem.words import join_dialogue


class DetectEmotionInput(BaseModel):
    """Arguments of the detect_emotion tool."""

    dialogue: list[str] = Field(
        description="The conversation's turns, oldest first, the person sharing a feeling first."
    )
    top_k: int = Field(default=3, ge=1, le=31, description="How many most likely emotions to list.")
    num_cause_words: int = Field(default=5, ge=0, le=50, description="How many emotion-cause words to return.")


class SEMTool(BaseTool):
    """Fine-grained emotion (32 EmpatheticDialogues labels) and the words that evoke it."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    name: str = "detect_emotion"
    description: str = (
        "Detect which of 32 fine-grained emotions the speaker of a dialogue feels. Returns the probability of "
        "every emotion, the top_k most likely, and the words of the dialogue that evoke the most likely one."
    )
    args_schema: type[BaseModel] = DetectEmotionInput
    sem: Any = Field(exclude=True)

    def _run(self, dialogue: list[str], top_k: int = 3, num_cause_words: int = 5) -> dict[str, Any]:
        return detect(self.sem, dialogue, top_k, num_cause_words)


def detect(sem: EmotionModel, dialogue: Sequence[str], top_k: int, num_cause_words: int) -> dict[str, Any]:
    """Run the SEM once: distribution, top-k and the top-1 label's cause words (none asked: no attribution)."""
    analyze = getattr(sem, "analyze", None)
    if num_cause_words and analyze is not None:  # one batched pass gives both the distribution and the attribution
        analysis = analyze([list(dialogue)], n=num_cause_words)[0]
        distribution, causes = analysis.probabilities, [cause.as_dict() for cause in analysis.causes]
    else:
        row = sem.predict_proba([list(dialogue)])[0]
        distribution = {label: float(p) for label, p in zip(sem.labels, row, strict=True)}
        top1 = max(distribution, key=distribution.__getitem__)
        causes = (
            locate_words(dialogue, sem.cause_words(list(dialogue), top1, num_cause_words)) if num_cause_words else []
        )
    ranked = sorted(distribution, key=distribution.__getitem__, reverse=True)
    return {"distribution": distribution, "primary_emotions": ranked[:top_k], "cause_words": causes}


def cause_words_for(sem: EmotionModel, dialogue: Sequence[str], emotion: str, n: int) -> list[dict[str, Any]]:
    """Return located cause words of the dialogue for a given label."""
    analyze = getattr(sem, "analyze", None)
    if analyze is not None:
        return [cause.as_dict() for cause in analyze([list(dialogue)], n=n, targets=[emotion])[0].causes]
    return locate_words(dialogue, sem.cause_words(list(dialogue), emotion, n))


def tagged_causes(tagger: CauseFinder, dialogue: Sequence[str], emotion: str, n: int) -> list[dict[str, Any]]:
    """The tagger's cause words for ``emotion`` as state entries; only words of the dialogue are kept."""
    words = {(w.turn, w.start, w.end, w.text) for w in join_dialogue(list(dialogue)).words}
    return [
        {"word": w.text, "score": float(w.score), "turn": w.turn, "start": w.start, "end": w.end}
        for w in tagger.tag(list(dialogue), emotion, n)
        if (w.turn, w.start, w.end, w.text) in words
    ]


def mark_agreement(causes: list[dict[str, Any]], attributed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mark each cause word that the SEM's attribution also chose (same word, any occurrence)."""
    chosen = {cause["word"].lower() for cause in attributed}
    return [cause | {"agrees": cause["word"].lower() in chosen} for cause in causes]


def locate_words(dialogue: Sequence[str], pairs: list[tuple[str, float]]) -> list[dict[str, Any]]:
    """Attach each (word, score) to its first occurrence; words not in the dialogue are dropped."""
    words = join_dialogue(list(dialogue)).words
    located = []
    for word, score in pairs:
        match = next((w for w in words if w.text.lower() == str(word).lower()), None)
        if match is not None:
            located.append({"word": match.text, "score": float(score), "turn": match.turn,
                            "start": match.start, "end": match.end})  # fmt: skip
    return located
