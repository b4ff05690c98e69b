"""Run-time settings of the HEF graph, passed as ``context=Context(...)``; every field has a default."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from hef_graph.dialogue import format_dialogue
from hef_graph.guidance import SHUT_GATES, GuidanceGates
from hef_graph.judging import RANKED_MAX_NEW_TOKENS, JudgementDesign, JudgementRequest, JudgementStage
from hef_graph.labels import EMOTIONS
from hef_graph.llm.runtime import CallPolicy, Generation, LLMRuntime
from hef_graph.memory import PhraseEncoder, RecallSettings
from hef_graph.replies import REPLY_SENTENCES
from hef_graph.sem.protocol import CauseFinder, EmotionModel


@dataclass(kw_only=True)
class Context:
    """Every knob a HEF run reads. Nodes get their models and settings from here and nowhere else."""

    top_k: int = field(default=3, metadata={"description": "How many SEM emotions stage one offers the LLM."})
    num_cause_words: int = field(default=5, metadata={"description": "How many emotion-cause words reach the reply."})
    llm: LLMRuntime | None = field(
        default=None,
        metadata={"description": "The LLM runtime (hef_graph.load_llm or as_runtime). None: llm_spec's, else "
                                 "the graph's LLM (load_llm()'s default: Qwen2.5-Coder-1.5B via llama.cpp)."},
    )  # fmt: skip
    llm_spec: str | None = field(
        default=None,
        metadata={"description": "A load_llm spec ('llama.cpp:qwen1.5b', 'smollm2', 'openai:<model>', a folder, a "
                                 "TGI URL), loaded once into the model cache; used when llm is None."},
    )  # fmt: skip
    sem: EmotionModel | None = field(
        default=None,
        metadata={"description": "An EmotionModel. None: sem_path's, else the graph's SEM (the shipped one)."},
    )
    sem_path: str | None = field(
        default=None,
        metadata={"description": "A folder saved by `hef train-sem`, loaded once into the model cache; used "
                                 "when sem is None."},
    )  # fmt: skip
    cause_source: Literal["tagger", "attribution", "both"] = field(
        default="tagger",
        metadata={
            "description": "Where the turn's cause words come from: 'tagger' (trained on human cause spans, "
            "RECCON-DD; the default), 'attribution' (the SEM's integrated gradients), or 'both' (the tagger's "
            "words, each marked where the attribution agrees; it costs the attribution pass)."
        },
    )
    cause_tagger: CauseFinder | None = field(
        default=None, metadata={"description": "A cause tagger object. None: the shipped one (model cache)."}
    )
    device: str | None = field(
        default=None, metadata={"description": "cuda or cpu for local models; None picks the best."}
    )
    max_new_tokens: int = field(default=64, metadata={"description": "Length cap of the reply, in tokens."})
    early_stop: bool = field(
        default=True,
        metadata={
            "description": "Stop generating the reply once its kept sentences are settled (llama.cpp); "
            "the reply reads the same, sooner."
        },
    )
    judge_max_new_tokens: int = field(default=8, metadata={"description": "Length cap of each emotion judgement."})
    max_prompt_chars: int = field(
        default=1500,
        metadata={"description": "Dialogue characters an LLM prompt keeps, most recent first (long inputs)."},
    )
    repetition_penalty: float = field(default=1.3, metadata={"description": "Keeps small LLMs out of loops."})
    llm_attempts: int = field(default=3, metadata={"description": "Tries per LLM call before giving up."})
    llm_timeout_s: float = field(default=120.0, metadata={"description": "Seconds one LLM call may take."})
    judgement: Literal["auto", "score", "generate"] = field(
        default="auto",
        metadata={
            "description": "How the LLM judges emotions: 'score' the candidate labels with its log-probabilities "
            "(combined with the SEM prior), 'generate' an answer and parse it (the paper's way), or 'auto' "
            "(score when the LLM runs in-process, else generate)."
        },
    )
    judgement_design: Literal["auto", "staged", "ranked", "alone", "sem"] = field(
        default="auto",
        metadata={
            "description": "How the LLM takes part in the emotion judgement: 'staged' (HEF's stage one over the "
            "SEM's top-k, then stage two), 'ranked' (the LLM ranks its own top three over all labels with "
            "confidences, never shown the SEM's, and the two are combined: p_sem * q_llm ** ranked_weight), "
            "'alone' (the LLM chooses among all labels, the SEM unused), 'sem' (the LLM is not asked), or 'auto' "
            "(the LLM runtime's Capabilities.judgement_design: 'staged' for every runtime until ED says otherwise, "
            "docs/results.md, issue 34). `judgement` says how the staged and alone designs are answered."
        },
    )
    ranked_weight: float = field(
        default=1.0,
        metadata={"description": "Weight of the LLM's own distribution against the SEM's in the ranked design "
                                 "(0: the SEM's top-1; large: the LLM's own ranking). Tune it for your LLM on ED "
                                 "valid with `hef judge tune` (docs/results.md, issue 34)."},
    )  # fmt: skip
    ranked_floor: float = field(
        default=0.01,
        metadata={"description": "The least probability the ranked design's LLM distribution gives a label it did "
                                 "not name (tuned with ranked_weight by `hef judge tune`)."},
    )  # fmt: skip
    sem_batching: Literal["auto", "on", "off"] = field(
        default="auto",
        metadata={
            "description": "Micro-batch concurrent SEM calls: 'auto' does so on CUDA only, since on CPU batching "
            "padded attribution passes was measured slower (docs/results.md)."
        },
    )
    stage_two: bool = field(
        default=True,
        metadata={"description": "Run stage two when stage one finds no fit; False keeps the SEM's top-1 (ablation)."},
    )
    llm_weight: float = field(
        default=0.2,
        metadata={
            "description": "Weight of the LLM's likelihood against the SEM prior when scoring (0: the SEM's top-1). "
            "Tuned on ED valid for the default Qwen2.5-Coder-1.5B (160 samples: 0: 49.4%, 0.1-0.3: 51.2%, "
            "0.5: 49.4%; benchmarks/tune_llm_weight.py). The tiny SmolLM2 adds nothing at any weight (0: 53.4%, "
            "0.1: 52.8%, 0.2: 51.3% on its own tuning sample): give it 0 or 0.1."
        },
    )
    llm_log_ratio_cap: float = field(
        default=2.0,
        metadata={
            "description": "The most the LLM's log-likelihood ratio of two candidates counts (nats, before "
            "llm_weight). It bounds the LLM's pull, so a judgement whose SEM margin is wider is settled without "
            "asking the LLM; inf: no cap. Tuned on ED valid at weight 0.2 (320 samples, "
            "benchmarks/tune_llm_weight.py): inf and 2 both 54.7%, with 0% and 80% of stage one settled; 1: 54.1%."
        },
    )
    handoff: bool = field(
        default=False,
        metadata={
            "description": "Pause a crisis turn, and a turn in which the person asks for a human, with interrupt() "
            "before any reply is sent, so a person can send, edit or take over (hef_graph.handoff). Needs a "
            "checkpointer. False: the safe reply goes out at once, as before."
        },
    )
    reviewer: str | None = field(
        default=None,
        metadata={"description": "Who reviews hand-offs (named in each pause); setting it turns handoff on."},
    )
    user_id: str | None = field(
        default=None,
        metadata={"description": "Whose emotional memory this run reads and writes (build_graph(store=...)); "
                                 "required when memory is on, never guessed."},
    )  # fmt: skip
    remember_text: bool = field(
        default=False,
        metadata={"description": "Also store the person's message with each memory (default: only time, emotion, "
                                 "valence, cause phrase and thread)."},
    )  # fmt: skip
    memory_threshold: float = field(
        default=0.3,
        metadata={"description": "Cosine similarity (MiniLM) an earlier cause phrase needs to this turn's to be "
                                 "recalled. Chosen on tests/data/memory_scenarios.json (related pairs 0.32-0.88, "
                                 "unrelated ones at most 0.14), so not validated on held-out data."},
    )  # fmt: skip
    memory_limit: int = field(default=2, metadata={"description": "The most earlier memories one reply is offered."})
    memory_ttl_days: float | None = field(
        default=None,
        metadata={"description": "Days after which a memory is never recalled (None: kept until forgotten)."},
    )
    memory_encoder: PhraseEncoder | None = field(
        default=None,
        metadata={"description": "Embeds cause phrases where the store has no index of its own. None: the graph's, "
                                 "else the shipped MiniLM."},
    )  # fmt: skip

    reply_notes: Literal["auto", "on", "off"] = field(
        default="auto",
        metadata={"description": "Give the reply the SEM's gated notes: 'auto' does so for LLMs that follow them "
                                 "(served ones, e.g. OpenAI-compatible) and not for the in-process small LLMs, whose "
                                 "replies blind raters preferred without notes on ED valid (docs/results.md)."},
    )  # fmt: skip
    reply_opener: bool = field(
        default=True,
        metadata={"description": "Start the reply with the listener move's opening words (prompts/opener_<move>.txt, "
                                 "under the move_confidence gate) where the LLM can be started that way (in-process "
                                 "llama.cpp). On ED valid and test, blind raters preferred the embedded LLM's "
                                 "replies begun this way to its replies without (docs/results.md, issue 28)."},
    )  # fmt: skip
    move_confidence: float = field(
        default=0.7,
        metadata={"description": "The SEM's probability mass on the labels that share the final emotion's listener "
                                 "move (labels.LISTENER_MOVE) at which the notes say what to do: celebrate, comfort, "
                                 "reassure, ... (1.01: never). On ED valid the move is right 89% of the time at 0.7 "
                                 "or above, in 60% of dialogues, and a strong writer's replies with it were rated "
                                 "better (docs/results.md, issue 28)."},
    )  # fmt: skip
    label_confidence: float = field(
        default=1.01,
        metadata={"description": "The final emotion's SEM probability at which the reply's notes name it (1.01: "
                                 "never, the default: on ED valid it is right 80% of the time at 0.7, and raters "
                                 "found the small LLM's replies with it no better)."},
    )  # fmt: skip
    valence_confidence: float = field(
        default=1.01,
        metadata={"description": "The SEM's probability mass on good-news (or hard-news) labels at which the notes "
                                 "say so (1.01: never, the default: on ED valid it lost to no note, and the move "
                                 "note implies it)."},
    )  # fmt: skip
    cause_confidence: float = field(
        default=1.01,
        metadata={"description": "The cause tagger's best word score in the speaker's clause at which the notes "
                                 "quote that clause (1.01: never, the default: on ED valid the quote made the small "
                                 "LLM repeat the speaker's words)."},
    )  # fmt: skip

    def __post_init__(self) -> None:
        """Reject settings that would fail later inside a node, naming the allowed range."""
        if not 1 <= self.top_k < len(EMOTIONS):
            raise ValueError(f"top_k must be between 1 and {len(EMOTIONS) - 1}, got {self.top_k}")
        if not 0 <= self.num_cause_words <= 50:
            raise ValueError(f"num_cause_words must be between 0 and 50, got {self.num_cause_words}")
        if self.max_new_tokens < 1 or self.judge_max_new_tokens < 1:
            raise ValueError("max_new_tokens and judge_max_new_tokens must be at least 1")
        if self.judgement not in ("auto", "score", "generate"):
            raise ValueError(f"judgement must be 'auto', 'score' or 'generate', got {self.judgement!r}")
        if self.judgement_design not in ("auto", "staged", "ranked", "alone", "sem"):
            raise ValueError(
                f"judgement_design must be 'auto', 'staged', 'ranked', 'alone' or 'sem', got {self.judgement_design!r}"
            )
        if self.ranked_weight < 0 or not 0 < self.ranked_floor <= 1 / len(EMOTIONS):
            raise ValueError(f"need ranked_weight >= 0 and 0 < ranked_floor <= 1/{len(EMOTIONS)}, got "
                             f"{self.ranked_weight} and {self.ranked_floor}")  # fmt: skip
        if self.llm_attempts < 1 or self.llm_timeout_s <= 0:
            raise ValueError("llm_attempts must be >= 1 and llm_timeout_s > 0")
        if self.reply_notes not in ("auto", "on", "off"):
            raise ValueError(f"reply_notes must be 'auto', 'on' or 'off', got {self.reply_notes!r}")
        if self.sem_batching not in ("auto", "on", "off"):
            raise ValueError(f"sem_batching must be 'auto', 'on' or 'off', got {self.sem_batching!r}")
        if self.cause_source not in ("tagger", "attribution", "both"):
            raise ValueError(f"cause_source must be 'tagger', 'attribution' or 'both', got {self.cause_source!r}")
        if self.cause_tagger is not None and not isinstance(self.cause_tagger, CauseFinder):
            raise TypeError(
                f"Context.cause_tagger must have tag(dialogue, emotion, n), got {type(self.cause_tagger).__name__}"
            )
        if not self.llm_log_ratio_cap >= 0:
            raise ValueError(f"llm_log_ratio_cap must be >= 0 (inf: no cap), got {self.llm_log_ratio_cap}")
        for gate in ("label_confidence", "valence_confidence", "move_confidence", "cause_confidence"):
            if not 0 <= getattr(self, gate) <= 1.01:
                raise ValueError(f"{gate} must be between 0 and 1 (above 1: never), got {getattr(self, gate)}")
        if self.llm_weight < 0:
            raise ValueError(f"llm_weight must be >= 0, got {self.llm_weight}")
        if self.repetition_penalty < 1.0:
            raise ValueError(f"repetition_penalty must be >= 1.0, got {self.repetition_penalty}")
        if self.llm is not None and not isinstance(self.llm, LLMRuntime):
            raise TypeError(
                f"Context.llm must be an LLMRuntime, got {type(self.llm).__name__}: wrap a chat model once with "
                "hef_graph.as_runtime(model) and reuse the runtime, or pass the model to build_graph"
            )
        if self.sem is not None and not isinstance(self.sem, EmotionModel):
            raise TypeError(f"Context.sem must implement hef_graph.EmotionModel, got {type(self.sem).__name__}")
        if self.reviewer is not None and (not isinstance(self.reviewer, str) or not self.reviewer.strip()):
            raise ValueError(f"reviewer must be a non-empty name, got {self.reviewer!r}")
        self._check_memory_settings()

    def _check_memory_settings(self) -> None:
        if self.user_id is not None and (not isinstance(self.user_id, str) or not self.user_id.strip()):
            raise ValueError(f"user_id must be a non-empty string, got {self.user_id!r}")
        if not 0 <= self.memory_threshold <= 1:
            raise ValueError(f"memory_threshold must be between 0 and 1, got {self.memory_threshold}")
        if not 0 <= self.memory_limit <= 10:
            raise ValueError(f"memory_limit must be between 0 and 10, got {self.memory_limit}")
        if self.memory_ttl_days is not None and not self.memory_ttl_days > 0:
            raise ValueError(f"memory_ttl_days must be > 0 or None, got {self.memory_ttl_days}")
        if self.memory_encoder is not None and not isinstance(self.memory_encoder, PhraseEncoder):
            raise TypeError(f"Context.memory_encoder must have embed(texts), got {type(self.memory_encoder).__name__}")

    def with_models(
        self,
        llm: LLMRuntime | str | None,
        sem: EmotionModel | str | None,
        cause_tagger: CauseFinder | None = None,
        memory_encoder: PhraseEncoder | None = None,
    ) -> Context:
        """Fill the model fields the caller left unset with the graph's own models (objects or specs)."""
        changes: dict[str, Any] = {}
        if self.memory_encoder is None and memory_encoder is not None:
            changes["memory_encoder"] = memory_encoder
        if self.cause_tagger is None and cause_tagger is not None:
            changes["cause_tagger"] = cause_tagger
        if self.llm is None and self.llm_spec is None:
            changes["llm" if isinstance(llm, LLMRuntime) else "llm_spec"] = llm
        if self.sem is None and self.sem_path is None:
            changes["sem_path" if sem is None or isinstance(sem, str) else "sem"] = sem
        return replace(self, **changes) if changes else self

    def hands_off(self) -> bool:
        """Whether crisis turns and requests for a human wait for a person (``handoff`` or a ``reviewer``)."""
        return self.handoff or self.reviewer is not None

    def recall_settings(self) -> RecallSettings:
        """How related and how many earlier memories a reply may be offered."""
        return RecallSettings(threshold=self.memory_threshold, limit=self.memory_limit)

    def attributes_causes(self) -> bool:
        """Whether the SEM's pass also attributes (integrated gradients cost about 0.25 s a turn on 2 cores)."""
        return self.cause_source != "tagger"

    def call_policy(self) -> CallPolicy:
        """Timeout and attempts of every LLM call."""
        return CallPolicy(attempts=self.llm_attempts, timeout_s=self.llm_timeout_s)

    def judgement_request(
        self, stage: JudgementStage, dialogue: Sequence[str], prior: Mapping[str, float]
    ) -> JudgementRequest:
        """A judgement over ``prior``'s candidates with this run's settings (dialogue cut to the prompt budget)."""
        return JudgementRequest(stage=stage, dialogue=format_dialogue(dialogue, self.max_prompt_chars), prior=prior,
                                llm_weight=self.llm_weight, log_ratio_cap=self.llm_log_ratio_cap,
                                method=self.judgement,
                                max_new_tokens=self.judge_max_new_tokens,
                                repetition_penalty=self.repetition_penalty)  # fmt: skip

    def judgement_design_for(self, llm: LLMRuntime) -> JudgementDesign:
        """The judgement design ``llm`` gets: the one asked for, or under 'auto' the one its runtime declares."""
        return llm.capabilities.judgement_design if self.judgement_design == "auto" else self.judgement_design

    def ranked_request(self, dialogue: Sequence[str], distribution: Mapping[str, float]) -> JudgementRequest:
        """The ranked judgement: all labels in their fixed order (never the SEM's), its distribution as prior."""
        prior = {label: distribution[label] for label in EMOTIONS}
        return JudgementRequest(stage="ranked", dialogue=format_dialogue(dialogue, self.max_prompt_chars),
                                prior=prior, llm_weight=self.ranked_weight, rank_floor=self.ranked_floor,
                                method="generate", max_new_tokens=max(self.judge_max_new_tokens, RANKED_MAX_NEW_TOKENS),
                                repetition_penalty=self.repetition_penalty)  # fmt: skip

    def guidance_gates(self, llm: LLMRuntime) -> GuidanceGates:
        """The evidence each of the reply's notes and its opener need; shut for what ``llm`` does not get."""
        opener = self.move_confidence if self.reply_opener and llm.capabilities.starts_replies else 1.01
        if self.reply_notes == "off" or (self.reply_notes == "auto" and not llm.capabilities.follows_notes):
            return replace(SHUT_GATES, opener_confidence=opener)
        return GuidanceGates(self.label_confidence, self.valence_confidence, self.cause_confidence,
                             self.move_confidence, opener)  # fmt: skip

    def reply_caps(self, opener: str | None = None) -> Generation:
        """Length and repetition caps of the reply, and the words it must start with (if any)."""
        sentences = REPLY_SENTENCES if self.early_stop else None
        return Generation(self.max_new_tokens, self.repetition_penalty, stop_after_sentences=sentences,
                          opener=opener or "")  # fmt: skip
