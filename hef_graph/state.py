"""The HEF graph's state: a narrow input (messages only) and the full state every node reads."""

from __future__ import annotations

from typing import Annotated, Literal, TypedDict, cast

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

from hef_graph.errors import InvalidInput
from hef_graph.guidance import Guidance
from hef_graph.handoff import HandoffDecision, HandoffReason
from hef_graph.judging import Judgement
from hef_graph.memory import MemoryItem, RecalledMemory
from hef_graph.records import CauseWordEntry

EmotionStage = Literal["primary", "fallback", "sem", "ranked", "alone"]


def add_messages_checked(left: list[AnyMessage], right: object) -> list[AnyMessage]:
    """LangGraph's add_messages, with malformed input reported as InvalidInput instead of a deep error."""
    if isinstance(right, (str, bytes)) or not isinstance(right, (list, tuple)):
        raise InvalidInput(
            f"messages must be a list of chat messages, e.g. [('user', 'I lost my job')], got {type(right).__name__}"
        )
    try:
        return cast(list[AnyMessage], add_messages(left, list(right)))  # type: ignore[arg-type]
    except (ValueError, TypeError, NotImplementedError, KeyError) as error:
        reason = str(error).splitlines()[0]
        raise InvalidInput(f"a message could not be read: {reason} Use (role, text) pairs, dicts with 'role' and "
                           "'content', or LangChain messages.") from None  # fmt: skip


class InputState(TypedDict):
    """What a caller sends: the conversation so far, the user's turn last."""

    messages: Annotated[list[AnyMessage], add_messages_checked]
    """Chat history. The add_messages reducer appends (or replaces by id), so HEF composes with any
    MessagesState chatbot; draft_response appends the reply as an AIMessage."""


class HEFState(InputState, total=False):
    """The full state. Every field below is rewritten on each user turn."""

    dialogue: list[str]
    """The turns HEF analysed (user first, oldest first), written by detect_emotion."""
    sem_distribution: dict[str, float]
    """The SEM's calibrated probability for each of the 32 labels (detect_emotion)."""
    primary_emotions: list[str]
    """The SEM's top-k labels, best first: stage one's only candidates (detect_emotion)."""
    sem_cause_words: list[CauseWordEntry]
    """Cause words for the SEM's top-1 label by attribution, from the same SEM pass (detect_emotion); empty
    unless ``cause_source`` asks for attribution."""
    judgements: list[Judgement]
    """The LLM's emotion judgements of this turn, stage one first (judge_primary, judge_fallback): each with
    its candidates, scores, choice, method ('scored', 'generated' or 'failed') and error."""
    emotion: str | None
    """The final emotion, one of the 32 lower-case ED labels; None only on a turn that left the graph at
    the input check (an empty or crisis turn, before any model ran)."""
    emotion_stage: EmotionStage | None
    """Who decided it: 'primary' (stage one), 'fallback' (stage two), 'ranked' or 'alone' (the LLM under
    those judgement designs, ``Context.judgement_design``), or 'sem' (the last answer was unusable or the LLM
    was not asked, so the SEM's top-1 stands); None when no model ran."""
    cause_words: list[CauseWordEntry]
    """Cause words for the final emotion, each a word of the dialogue (perceive_causes): the cause tagger's
    by default, else the SEM attribution's."""
    guidance: Guidance
    """The notes the reply prompt carried and the evidence behind each (draft_response)."""
    reply: str
    """The empathetic reply, also appended to messages (draft_response or safe_reply)."""
    crisis: bool
    """True when the user's turn expresses suicidal intent or self-harm; the reply is then the safe one."""
    handoff_reason: HandoffReason | None
    """Why this turn waits for a person (``Context.handoff``): 'crisis', 'asked_for_human' or 'taken_over';
    None on a turn HEF answers itself (check_input, safe_reply)."""
    handoff_pending: bool
    """True from the moment a turn is routed to hand_off until a person's answer is carried out. It is not reset
    per turn: a new message on a paused thread joins the paused turn instead of being answered on its own."""
    handoff: HandoffDecision | None
    """The reviewer's answer on this turn (hand_off): action, reason, the text sent (None: nothing sent)."""
    taken_over: bool
    """True once a person took the thread over: every later turn waits for them until they hand it back.
    Kept across turns."""
    recalled_memories: list[RecalledMemory]
    """The person's earlier items the reply was offered, best first (recall_memories; memory on only): each
    with its time, emotion, valence, cause phrase, thread, similarity and score."""
    remembered: MemoryItem | None
    """What this turn stored in the person's memory (remember_turn); None when nothing was stored."""
