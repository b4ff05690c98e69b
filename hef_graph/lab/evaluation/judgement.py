"""Emotion-judgement packets for an external LLM: the graph's exact prompts out, checked answers back in.

A strong LLM that cannot be reached from here is measured by a writer (a person or another model) who
answers each prompt of a packet. Each arm is its own packet, for its own writer, numbered in an order of its
own; a key file beside it (never given to writers) holds the gold labels and the SEM's distributions.

- ``alone``: the LLM alone over all 32 labels, the question ``hef eval``'s ``llm`` system asks;
- ``hef_primary`` and ``hef_fallback``: HEF's stage one over the SEM's top-k, then, for the items whose
  stage-one answer was 'none' or unusable, stage two over the other labels, as nodes/judge_primary.py and
  judge_fallback.py ask a served LLM (generate mode);
- ``own_top3``: the ranked design (``hef_graph.ranking``): the LLM's own three most likely labels with
  confidences, never shown the SEM's reading, combined with it afterwards.

Answers come back as one line per item, ``N: label`` or ``N: label p; label p; label p``. An answer is taken
only as asked: anything else (an unknown label, a missing item, malformed confidences) is reported with its
item number, never guessed.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from hef_graph.context import Context
from hef_graph.dialogue import clean_text
from hef_graph.judging import JudgementRequest, stage_one_prior
from hef_graph.lab.data import DialogueSample, load_samples, stratified_sample
from hef_graph.labels import EMOTIONS, NONE_OF_THESE
from hef_graph.prompting import render_prompt
from hef_graph.ranking import parse_ranked
from hef_graph.sem.protocol import EmotionModel
from hef_graph.sem.tool import detect

Arm = Literal["alone", "hef_primary", "hef_fallback", "own_top3"]
ARMS: tuple[Arm, ...] = get_args(Arm)
KEY, PACKET, ANSWERS, IMPORTED = "key.json", "packet.md", "answers.txt", "answers.json"
NO_ANSWER, ANSWERED_TWICE = "no answer", "answered twice"
_CONVERSATION = re.compile(r"hit:\d+_conv:\d+")
_ANSWER_LINE = re.compile(r"^\s*(\d+)\s*:\s*(.*?)\s*$")


class JudgementPacketError(ValueError):
    """A packet cannot be made, or answers cannot be read; the message says which item and why."""


@dataclass(frozen=True)
class KeyItem:
    """One item of a packet as the key keeps it: never shown to the writer."""

    number: int
    sample_id: str
    gold: str
    sem: dict[str, float]
    """The SEM's distribution over the 32 labels, as detect_emotion gives it."""
    candidates: list[str]
    """The labels the item's question offers, in its order ('none' last in stage one)."""
    dialogue: list[str]
    """The turns the graph analyses, oldest first (stage two's item is asked about the same ones)."""
    prompt: str
    """The user message the graph sends (the system message is the same for every item)."""


@dataclass(frozen=True)
class Answer:
    """One item's answer as read: its labels (best first), confidences (ranked arm) and what was wrong."""

    number: int
    text: str
    labels: tuple[str, ...]
    confidences: tuple[float, ...]
    problems: tuple[str, ...]

    @property
    def valid(self) -> bool:
        """Taken as asked: at least one label and nothing wrong."""
        return bool(self.labels) and not self.problems


def excluded_conversations(paths: Iterable[Path]) -> set[str]:
    """Every ED conversation id named in ``paths`` (predictions, keys, lists: any text file)."""
    return {match for path in paths for match in _CONVERSATION.findall(path.read_text(encoding="utf-8"))}


def draw_samples(data_dir: Path, split: str, per_label: int, seed: int, exclude: set[str]) -> list[DialogueSample]:
    """A stratified sample of ``split`` from the conversations not in ``exclude``."""
    pool = [s for s in load_samples(data_dir, split) if s.conv_id not in exclude]
    return stratified_sample(pool, per_label, seed)


def request_of(arm: Arm, dialogue: Sequence[str], reading: Mapping[str, Any], context: Context) -> JudgementRequest:
    """The request the graph (or ``hef eval``'s LLM alone) makes for ``arm``, from the SEM's ``reading``."""
    distribution, primary = reading["distribution"], reading["primary_emotions"]
    if arm == "alone":
        return context.judgement_request("alone", dialogue, dict.fromkeys(EMOTIONS, 1 / len(EMOTIONS)))
    if arm == "hef_primary":
        return context.judgement_request("primary", dialogue, stage_one_prior(distribution, primary))
    if arm == "hef_fallback":
        return context.judgement_request(
            "fallback", dialogue, {k: distribution[k] for k in EMOTIONS if k not in primary}
        )
    return context.ranked_request(dialogue, distribution)


def key_items(
    samples: Sequence[DialogueSample], arm: Arm, sem: EmotionModel, context: Context, order_seed: str
) -> list[KeyItem]:
    """The packet's items in a shuffled order (a stratified sample is sorted by its gold labels)."""
    order = random.Random(order_seed).sample(list(samples), len(samples))
    items = []
    for number, sample in enumerate(order, start=1):
        dialogue = [clean_text(turn) for turn in sample.context]
        reading = detect(sem, dialogue, context.top_k, 0)
        items.append(item_of(number, sample.sample_id, sample.emotion, dialogue, reading, arm, context))
    return items


def item_of(
    number: int, sample_id: str, gold: str, dialogue: Sequence[str], reading: Mapping[str, Any], arm: Arm,
    context: Context,
) -> KeyItem:  # fmt: skip
    """One key item: the SEM's reading and the arm's exact prompt for the dialogue."""
    request = request_of(arm, dialogue, reading, context)
    system, user = request.messages()
    if str(system.content) != render_prompt("system"):
        raise JudgementPacketError("the judgement's system message is not prompts/system.txt; the packet assumes it is")
    sem = {label: round(float(p), 6) for label, p in reading["distribution"].items()}
    return KeyItem(number, sample_id, gold, sem, request.candidates, list(dialogue), str(user.content))


def export_packet(folder: Path, arm: Arm, items: Sequence[KeyItem], meta: Mapping[str, Any]) -> None:
    """Write ``packet.md`` (for the writer: prompts only) and ``key.json`` (never for the writer)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / PACKET).write_text(packet_text(arm, items), encoding="utf-8")
    key = {**meta, "arm": arm, "items": [asdict(item) for item in items]}
    (folder / KEY).write_text(json.dumps(key, indent=1) + "\n", encoding="utf-8")


def read_key(folder: Path) -> tuple[dict[str, Any], list[KeyItem]]:
    """A packet's metadata and items."""
    key = json.loads((folder / KEY).read_text(encoding="utf-8"))
    return key, [KeyItem(**item) for item in key.pop("items")]


ANSWER_FORMAT = {
    "label": "one label, exactly as written in that item's question, e.g. `{n}: <label>`{none}",
    "ranked": "three labels from that item's question, best first, each with your probability that it is the "
    "right one (the three together at most 1), e.g. `{n}: <label> 0.5; <label> 0.3; <label> 0.1`",
}


def packet_text(arm: Arm, items: Sequence[KeyItem]) -> str:
    """The writer's packet: how to answer, the shared system message, then every item's prompt."""
    form = ANSWER_FORMAT["ranked" if arm == "own_top3" else "label"]
    none = f", or `{{n}}: {NONE_OF_THESE}` where the question allows it" if arm == "hef_primary" else ""
    quoted = "\n".join(f"> {line}" if line else ">" for line in render_prompt("system").splitlines())
    blocks = [f"## Item {item.number}\n\n```text\n{item.prompt}\n```\n" for item in items]
    head = (
        f"# Emotion judgements: {len(items)} items\n\n"
        "Each item below is a prompt sent on its own to an assistant in a chat. Answer each one as that assistant, "
        "reading only that item's prompt (the items are unrelated to one another).\n\n"
        f"Every item has the same system message:\n\n{quoted}\n\n"
        "## How to answer\n\n"
        "Write a plain text file with one line per item, in item order, and nothing else:\n\n"
        "```text\n1: <answer to item 1>\n2: <answer to item 2>\n...\n```\n\n"
        f"Each answer is {form.format(n='N', none=none.format(n='N'))}. Write labels in lower case, as the "
        "question writes them. Answer every item.\n\n---\n\n"
    )
    return head + "\n".join(blocks)


def read_answers(folder: Path, path: Path | None = None) -> list[Answer]:
    """Every item's answer from the writer's file (``answers.txt`` by default), each checked against its item.

    An item with no line, two lines or an answer not as asked gets its problems; nothing is guessed.
    """
    key, items = read_key(folder)
    source = path or folder / ANSWERS
    by_number: dict[int, list[str]] = {}
    stray: list[str] = []
    for line in source.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _ANSWER_LINE.match(line)
        if match:
            by_number.setdefault(int(match.group(1)), []).append(match.group(2))
        else:
            stray.append(line.strip())
    unknown = sorted(set(by_number) - {item.number for item in items})
    if stray or unknown:
        raise JudgementPacketError(f"{source}: lines that are not 'N: answer' {stray[:5]}, or numbers not in the "
                                   f"packet {unknown[:10]}")  # fmt: skip
    return [check_answer(item, by_number.get(item.number, []), key["arm"]) for item in items]


def check_answer(item: KeyItem, lines: Sequence[str], arm: Arm) -> Answer:
    """One item's answer as asked, or its problems (none given, given twice, not one of its labels, ...)."""
    if len(lines) != 1:
        return Answer(item.number, " | ".join(lines), (), (), (NO_ANSWER if not lines else ANSWERED_TWICE,))
    text = lines[0]
    if arm == "own_top3":
        ranked = parse_ranked(text, item.candidates)
        return Answer(item.number, text, ranked.labels, ranked.confidences, ranked.problems)
    label = text.strip().rstrip(".").strip("`'\"").lower()
    if label not in item.candidates:
        return Answer(item.number, text, (), (), (f"{text!r} is not one of the item's labels",))
    return Answer(item.number, text, (label,), (), ())


def write_answers(folder: Path, answers: Sequence[Answer]) -> list[str]:
    """Save the checked answers as ``answers.json`` and return the problems, one line each."""
    (folder / IMPORTED).write_text(json.dumps([asdict(a) for a in answers], indent=1) + "\n", encoding="utf-8")
    return [f"item {a.number}: {'; '.join(a.problems)} (answer: {a.text!r})" for a in answers if a.problems]


def load_answers(folder: Path) -> dict[int, Answer]:
    """The answers ``write_answers`` saved, by item number."""
    rows = json.loads((folder / IMPORTED).read_text(encoding="utf-8"))
    return {row["number"]: Answer(row["number"], row["text"], tuple(row["labels"]), tuple(row["confidences"]),
                                  tuple(row["problems"])) for row in rows}  # fmt: skip


def needs_stage_two(answer: Answer) -> bool:
    """Stage one found no fit: 'none', or an answer the graph could not use (it then asks stage two too)."""
    return not answer.valid or answer.labels[0] == NONE_OF_THESE


def fallback_items(stage_one: Path, context: Context, order_seed: str) -> list[KeyItem]:
    """Stage two's items: each stage-one item that found no fit, with the question judge_fallback asks."""
    _, items = read_key(stage_one)
    answers = load_answers(stage_one)
    unanswered = [a.number for a in answers.values() if a.problems[:1] in ((NO_ANSWER,), (ANSWERED_TWICE,))]
    if unanswered:
        raise JudgementPacketError(f"stage one has no single answer for items {unanswered}: get them answered first")
    chosen = [item for item in items if needs_stage_two(answers[item.number])]
    order = random.Random(order_seed).sample(chosen, len(chosen))
    return [fallback_item(number, item, context) for number, item in enumerate(order, start=1)]


def fallback_item(number: int, stage_one: KeyItem, context: Context) -> KeyItem:
    """Stage two's item for one stage-one item (the same dialogue and SEM reading)."""
    primary = [label for label in stage_one.candidates if label != NONE_OF_THESE]
    reading = {"distribution": stage_one.sem, "primary_emotions": primary}
    return item_of(number, stage_one.sample_id, stage_one.gold, stage_one.dialogue, reading, "hef_fallback", context)
