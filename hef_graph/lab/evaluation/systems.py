"""The systems `hef eval` compares, and how one of them handles one ED sample."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from langchain_core.callbacks import BaseCallbackHandler

from hef_graph.context import Context
from hef_graph.graph import build_graph
from hef_graph.guidance import move_opener, reply_messages
from hef_graph.lab.data import DialogueSample
from hef_graph.labels import EMOTIONS
from hef_graph.llm import LLMRuntime, load_llm
from hef_graph.llm.runtime import NO_STREAM
from hef_graph.replies import clean_reply
from hef_graph.sem.protocol import EmotionModel


@dataclass(frozen=True)
class System:
    """A named configuration: the SEM alone, the LLM alone (direct or framed as HEF), or HEF with Context overrides."""

    name: str
    kind: Literal["sem", "llm", "framed", "hef"]
    description: str
    overrides: dict[str, Any] = field(default_factory=dict)
    emotion_from: str | None = None
    """A system whose emotion path is identical by construction; its emotion-only records are reused."""
    llm_spec: str | None = None
    """An LLM of its own (a load_llm spec) instead of the evaluation's."""
    own_move_gate: float | None = None
    """(LLM alone) Begin the reply with the opener of the LLM's own emotion's listener move when the LLM's own
    mass on that move reaches this gate: HEF's opener without the SEM (None: no opener)."""

    @property
    def judges_emotion(self) -> bool:
        """Whether the system names an emotion (the framed LLM only replies)."""
        return self.kind != "framed"


SYSTEMS: dict[str, System] = {
    s.name: s
    for s in (
        System("sem", "sem", "SEM alone: its top-1 emotion, no reply"),
        System("llm", "llm", "LLM alone: zero-shot 32-way emotion, and its reply from the reply prompt with no "
               "notes (HEF's reply task is the LLM alone's instruction), no SEM"),
        System("llm_opener", "llm", "The LLM alone, its reply begun with the opener of its own emotion's move where "
               "its own mass on the move is >= 0.25 (its probabilities are flat: on the seed-1 test sample this gives "
               "an opener in 60% of dialogues, as HEF's 0.7 gate on the SEM does): the opener without the SEM",
               own_move_gate=0.25),
        System("llm_framed", "framed", "The same LLM with HEF's exact system prompt and reply task, without the SEM's "
               "notes: what the SEM adds is the only difference from hef (reply only)"),
        System("hef", "hef", "HEF, full (k=3, scored judgement; the reply's gated notes where the LLM follows them, "
               "its gated opener where the LLM can be started: for the embedded one, the opener alone)"),
        System("hef_noted", "hef", "HEF with the reply's notes on whatever the LLM (reply_notes='on') and no opener, "
               "as a served LLM gets them: the notes' effect on this LLM, and the prompts for an external writer",
               {"reply_notes": "on", "reply_opener": False}, "hef"),
        System("hef_no_opener", "hef", "HEF as the default, without the reply's opener: the opener's effect",
               {"reply_opener": False}, "hef"),
        System("hef_no_stage_two", "hef", "HEF without stage two (the SEM's top-1 when stage one rejects)",
               {"stage_two": False}),
        System("hef_no_causes", "hef", "HEF without cause words (no tagging; the quoted-cause note is off by default)",
               {"num_cause_words": 0}, "hef"),
        System("hef_k1", "hef", "HEF with k=1", {"top_k": 1}),
        System("hef_k5", "hef", "HEF with k=5", {"top_k": 5}),
        System("hef_generate", "hef", "HEF judging by generate-and-parse (the paper's way)", {"judgement": "generate"}),
        System("hef_smollm2", "hef", "HEF with the tiny SmolLM2-135M as its LLM (its tuned llm_weight, 0.1)",
               {"llm_weight": 0.1}, llm_spec="smollm2"),
    )
}  # fmt: skip
REPLY_SYSTEMS = ("llm", "llm_opener", "llm_framed", "hef", "hef_noted", "hef_no_opener", "hef_no_causes", "hef_smollm2")
DEFAULT_SYSTEMS = ("sem", "hef", "llm", "hef_no_causes", "hef_no_stage_two", "hef_k1", "hef_k5")
"""What `hef eval` runs unless told otherwise (hef_generate is slow on CPU: run it with --systems)."""


class LLMCallCounter(BaseCallbackHandler):
    """Count reply calls and the tokens every chat-model call generated, from LangChain callbacks."""

    def __init__(self, count_tokens: Callable[[str], int]) -> None:
        """Count generated tokens with ``count_tokens`` (the LLM's own tokenizer where known)."""
        self.calls = 0
        self.generated_tokens = 0
        self._count_tokens = count_tokens

    def on_chat_model_start(self, serialized: dict[str, Any], messages: Any, **kwargs: Any) -> None:
        """Count one reply call (judgement calls are tagged not to stream, and counted from their records)."""
        if NO_STREAM not in (kwargs.get("tags") or []):
            self.calls += 1

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        """Add the generated tokens."""
        for generations in response.generations:
            for generation in generations:
                self.generated_tokens += self._count_tokens(generation.text)


def as_messages(context: tuple[str, ...]) -> list[tuple[str, str]]:
    """ED context as chat messages: the speaker is the user."""
    return [("user" if i % 2 == 0 else "assistant", text) for i, text in enumerate(context)]


class SystemRunner:
    """Run one system on one sample and return a flat record with every intermediate decision."""

    def __init__(self, system: System, llm: LLMRuntime, sem: EmotionModel) -> None:
        """Prepare the graphs (with and without reply) or the LLM-alone path."""
        llm = load_llm(system.llm_spec) if system.llm_spec else llm
        self.system, self.llm, self.sem = system, llm, sem
        self.context = Context(**system.overrides)
        self.graphs = (
            {reply: build_graph(llm=llm, sem=sem, reply=reply) for reply in (True, False)}
            if system.kind == "hef"
            else {}
        )

    def run(self, sample: DialogueSample, with_reply: bool) -> dict[str, Any]:
        """Return the record for ``sample``; the reply is produced only when ``with_reply``."""
        record = {"sample_id": sample.sample_id, "system": self.system.name, "gold": sample.emotion,
                  "context": list(sample.context), "reference": sample.reference,
                  "with_reply": with_reply}  # fmt: skip
        counter = LLMCallCounter(self.llm.count_tokens)
        started = time.perf_counter()
        if self.system.kind == "sem":
            record |= self._run_sem(sample)
        elif self.system.kind == "llm":
            record |= self._run_llm(sample, with_reply, counter)
        elif self.system.kind == "framed":
            record |= self._run_framed(sample, counter)
        else:
            record |= self._run_hef(sample, with_reply, counter)
        record["turn_seconds"] = time.perf_counter() - started
        asked = [j for j in record.get("judgements", []) if j["method"] != "settled"]  # settled ones ask no LLM
        record["llm_calls"] = counter.calls + len(asked)
        record["generated_tokens"] = counter.generated_tokens
        return record

    def _run_sem(self, sample: DialogueSample) -> dict[str, Any]:
        row = self.sem.predict_proba([list(sample.context)])[0]
        emotion = self.sem.labels[int(row.argmax())]
        return {"emotion": emotion, "sem_top1": emotion, "emotion_stage": "sem", "reply": None, "node_seconds": {}}

    def _run_llm(self, sample: DialogueSample, with_reply: bool, counter: LLMCallCounter) -> dict[str, Any]:
        # the LLM alone answers stage two's question over all 32 labels, with no SEM prior
        request = self.context.judgement_request("alone", sample.context, dict.fromkeys(EMOTIONS, 1 / len(EMOTIONS)))
        node_seconds: dict[str, float] = {}
        started = time.perf_counter()
        judgement = self.llm.judge(replace(request, llm_weight=1.0), self.context.call_policy())
        node_seconds["classify"] = time.perf_counter() - started
        reply = None
        if with_reply:
            started = time.perf_counter()
            gate = self.system.own_move_gate
            opener = move_opener(judgement["scores"], judgement["choice"] or "", gate) if gate is not None else None
            reply = self._reply_without_notes(sample, counter, opener)
            node_seconds["reply"] = time.perf_counter() - started
        return {"emotion": judgement["choice"] or "unparsed", "judgements": [judgement], "reply": reply,
                "node_seconds": node_seconds}  # fmt: skip

    def _run_framed(self, sample: DialogueSample, counter: LLMCallCounter) -> dict[str, Any]:
        # HEF's reply prompt with no notes: no emotion is judged, so the record has none
        started = time.perf_counter()
        reply = self._reply_without_notes(sample, counter)
        return {"emotion": None, "reply": reply, "node_seconds": {"reply": time.perf_counter() - started}}

    def _reply_without_notes(self, sample: DialogueSample, counter: LLMCallCounter, opener: str | None = None) -> str:
        # the LLM alone and llm_framed share this prompt: HEF's reply prompt with no notes
        messages = reply_messages(sample.context, [], self.context.max_prompt_chars)
        return clean_reply(self.llm.reply(messages, self.context.reply_caps(opener), self.context.call_policy(),
                                          {"callbacks": [counter]}))  # fmt: skip

    def _run_hef(self, sample: DialogueSample, with_reply: bool, counter: LLMCallCounter) -> dict[str, Any]:
        graph = self.graphs[with_reply]
        state: dict[str, Any] = {}
        node_seconds: dict[str, float] = {}
        last = time.perf_counter()
        for update in graph.stream({"messages": as_messages(sample.context)}, {"callbacks": [counter]},
                                   context=self.context, stream_mode="updates"):  # fmt: skip
            now = time.perf_counter()
            for node, values in update.items():
                node_seconds[node] = now - last
                state |= values or {}
            last = now
        judgements = state.get("judgements", [])
        primary = state.get("primary_emotions") or []
        return {  # a turn routed to safe_reply before the SEM ran has no emotion: it counts as wrong
            "emotion": state.get("emotion") or "none",
            "emotion_stage": state.get("emotion_stage"),
            "crisis": bool(state.get("crisis")),
            "sem_top1": primary[0] if primary else None,
            "primary_emotions": primary,
            "judgements": judgements,
            "sem_cause_words": [c["word"] for c in state.get("sem_cause_words") or []],
            "cause_words": [c["word"] for c in state.get("cause_words") or []],
            "guidance": state.get("guidance"),
            "reply": state.get("reply") if with_reply else None,
            "node_seconds": node_seconds,
        }
