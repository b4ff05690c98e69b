"""Record what the graph did on a turn and render it as one self-contained HTML page (no network, no CDN).

The drawing's nodes and edges come from the compiled graph itself (``GraphShape.of``), so the trace shows
whatever graph ran, including one built with ``reply=False``.
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from langchain_core.runnables import RunnableConfig

from hef_graph.context import Context
from hef_graph.graph import HEFGraph
from hef_graph.judging import describe


@dataclass(frozen=True)
class GraphShape:
    """A compiled graph's topology: its nodes (with ``__start__`` and ``__end__``) and edges."""

    nodes: tuple[str, ...]
    edges: tuple[tuple[str, str, bool], ...]
    """(source, target, conditional)"""

    @classmethod
    def of(cls, graph: HEFGraph) -> GraphShape:
        """Read the topology LangGraph itself draws."""
        drawable = graph.get_graph()
        edges = tuple((edge.source, edge.target, bool(edge.conditional)) for edge in drawable.edges)
        return cls(tuple(drawable.nodes), edges)

    def levels(self) -> dict[str, int]:
        """Each node's depth: the longest path to it from ``__start__`` (the graph has no cycles)."""
        depth = {node: 0 for node in self.nodes}
        for _ in self.nodes:  # relax once per node: enough for any acyclic graph
            for source, target, _conditional in self.edges:
                depth[target] = max(depth[target], depth[source] + 1)
        return depth


@dataclass
class TurnTrace:
    """One user turn: the graph it ran on, the nodes run, in order, with their durations, and the final state."""

    shape: GraphShape
    steps: list[tuple[str, float]] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)


def traced_invoke(
    graph: HEFGraph,
    inputs: dict[str, Any],
    config: RunnableConfig | None = None,
    context: Context | None = None,
) -> TurnTrace:
    """Run one turn through ``graph.stream`` and time each node from its update."""
    trace = TurnTrace(GraphShape.of(graph))
    last = time.perf_counter()
    for update in graph.stream(inputs, config, context=context, stream_mode="updates"):
        now = time.perf_counter()
        for node, values in update.items():
            trace.steps.append((node, now - last))
            trace.state |= values or {}
        last = now
    if config and graph.checkpointer is not None:
        trace.state = dict(graph.get_state(config).values)
    return trace


class Snapshot(Protocol):
    """What a rebuilt turn reads of a checkpoint: LangGraph's ``StateSnapshot``, or a served thread's history entry."""

    @property
    def next(self) -> tuple[str, ...]:
        """The nodes this checkpoint runs next."""
        ...

    @property
    def values(self) -> dict[str, Any]:
        """The state at this checkpoint."""
        ...

    @property
    def created_at(self) -> str | None:
        """When the checkpoint was written (ISO 8601)."""
        ...


def turns_from_history(graph: HEFGraph, config: RunnableConfig) -> list[TurnTrace]:
    """Rebuild every finished turn of a thread from its checkpoints (durations from checkpoint times)."""
    return turns_from_snapshots(GraphShape.of(graph), reversed(list(graph.get_state_history(config))))


def turns_from_snapshots(shape: GraphShape, oldest_first: Iterable[Snapshot]) -> list[TurnTrace]:
    """Rebuild every finished turn from a thread's checkpoints, oldest first, in process or from a server."""
    snapshots = list(oldest_first)
    turns, current = [], TurnTrace(shape)
    for before, after in zip(snapshots, snapshots[1:], strict=False):
        for node in before.next:
            if node in shape.nodes and not node.startswith("__"):
                seconds = _timestamp(after.created_at) - _timestamp(before.created_at)
                current.steps.append((node, seconds))
        if not after.next and after.values.get("reply") and current.steps:
            current.state = dict(after.values)
            turns.append(current)
            current = TurnTrace(shape)
    return turns


def _timestamp(iso: str | None) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp() if iso else 0.0


# ----- rendering ------------------------------------------------------------------------------

_SVG_CSS = "".join(
    [
        ".node rect{fill:#eef0f6;stroke:#9aa3b8}",
        ".node.visited rect{fill:#c9d8ff;stroke:#2f5bd3;stroke-width:2}",
        ".node text{font-size:12px;text-anchor:middle;dominant-baseline:middle;font-family:sans-serif}",
        ".edge{stroke:#9aa3b8;fill:none}",
        ".edge.taken{stroke:#2f5bd3;stroke-width:2.5}",
    ]
)
TURN_CSS = "".join(
    [
        "h2{font-size:17px;margin-top:28px;border-bottom:1px solid #dde2ec;padding-bottom:4px}",
        ".turn{background:#fff;border:1px solid #dde2ec;border-radius:10px;padding:16px 20px;margin-bottom:28px}",
        ".graph svg{max-width:460px}",
        _SVG_CSS,
        "table{border-collapse:collapse}",
        "td,th{padding:3px 10px 3px 0;text-align:left;font-size:13px;vertical-align:top}",
        ".bar{display:inline-block;height:10px;background:#6b8fd6;border-radius:2px}",
        ".bar.top{background:#e0693a}",
        ".cause{border-radius:3px;padding:0 1px}",
        ".cause.agrees{outline:2px solid #7a3b1d}",
        ".speaker{font-weight:600;margin-right:6px}",
        ".reply{font-size:15px;background:#eef7ee;padding:10px;border-radius:8px}",
        ".decision{font-family:monospace;font-size:12px;background:#f3f4f8;padding:2px 6px;border-radius:4px}",
    ]
)
"""The style of one turn's section (``turn_html``): what the trace page and the console's chat page share."""
_CSS = (
    "body{font-family:system-ui,Helvetica,Arial,sans-serif;margin:24px;color:#1d2330;background:#fafbfd}"
    "h1{font-size:22px}" + TURN_CSS
)

_ROW_HEIGHT, _COLUMN_WIDTH, _MARGIN, _LANE = 55, 150, 20, 30
"""Pixels: a row per depth, a column per node of a row, the border, and a lane each side for long edges."""


def layout(shape: GraphShape) -> dict[str, tuple[int, int]]:
    """Node centres in the SVG: one row per depth, the nodes of a row side by side around the middle."""
    levels = shape.levels()
    rows: dict[int, list[str]] = {}
    for node in shape.nodes:
        rows.setdefault(levels[node], []).append(node)
    width = max(len(row) for row in rows.values()) * _COLUMN_WIDTH
    centres = {}
    for depth, row in rows.items():
        for index, node in enumerate(row):
            x = _LANE + width // 2 + int((index - (len(row) - 1) / 2) * _COLUMN_WIDTH)
            centres[node] = (x, _MARGIN + depth * _ROW_HEIGHT)
    return centres


def graph_svg(shape: GraphShape, visited: Iterable[str] = ()) -> str:
    """Draw the graph with the visited nodes and the edges taken highlighted (conditional edges dashed)."""
    centres = layout(shape)
    path = ["__start__", *visited, "__end__"]
    taken = set(zip(path, path[1:], strict=False))
    width = max(x for x, _ in centres.values()) + _COLUMN_WIDTH // 2 + _LANE
    height = max(y for _, y in centres.values()) + _MARGIN + 14
    middle = width / 2
    parts = [f'<svg viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" role="img" '
             'aria-label="HEF graph">']  # fmt: skip
    for source, target, conditional in shape.edges:
        (x1, y1), (x2, y2) = centres[source], centres[target]
        css = "edge taken" if (source, target) in taken else "edge"
        dash = ' stroke-dasharray="5 4"' if conditional else ""
        if y2 - y1 <= _ROW_HEIGHT:  # to the next row: straight
            line = f"M {x1} {y1 + 14} L {x2} {y2 - 14}"
        else:  # past other rows: round a side lane, clear of the boxes in between
            lane = _LANE / 2 if (x1 + x2) / 2 <= middle else width - _LANE / 2
            control = (lane - (x1 + x2) / 8) / 0.75  # puts the curve's midpoint in the lane
            bends = f"{control:.0f} {y1 + _ROW_HEIGHT} {control:.0f} {y2 - _ROW_HEIGHT}"
            line = f"M {x1} {y1 + 14} C {bends} {x2} {y2 - 14}"
        parts.append(f'<path class="{css}" data-edge="{source}->{target}" d="{line}"{dash}/>')
    for node, (x, y) in centres.items():
        css = "node visited" if node in path else "node"
        box = 80 if node.startswith("__") else 130
        parts.append(
            f'<g class="{css}" data-node="{node}"><rect x="{x - box / 2}" y="{y - 14}" width="{box}" height="28" '
            f'rx="8"/><text x="{x}" y="{y}">{node}</text></g>'
        )
    return "".join(parts) + "</svg>"


def standalone_svg(shape: GraphShape) -> str:
    """The graph alone as an SVG file that carries its own style (``hef graph --svg``)."""
    drawing = graph_svg(shape)
    head = drawing.index(">") + 1
    return f"{drawing[:head]}<style>{_SVG_CSS}</style>{drawing[head:]}"


def distribution_html(distribution: dict[str, float], primary: list[str]) -> str:
    """A bar per emotion, best first, the SEM's top-k marked."""
    rows = []
    for label, p in sorted(distribution.items(), key=lambda item: -item[1]):
        css = "bar top" if label in primary else "bar"
        mark = " ★ top-k" if label in primary else ""
        rows.append(f'<tr class="emotion-row" data-label="{label}"><td>{label}{mark}</td><td>{p:.3f}</td>'
                    f'<td><span class="{css}" style="width:{max(1, int(300 * p))}px"></span></td></tr>')  # fmt: skip
    return '<table class="distribution">' + "".join(rows) + "</table>"


def dialogue_html(dialogue: list[str], causes: list[dict[str, Any]]) -> str:
    """The dialogue with each cause word highlighted, its opacity following its score."""
    top = max((c["score"] for c in causes), default=1.0) or 1.0
    lines = []
    for index, turn in enumerate(dialogue):
        marks = sorted((c for c in causes if c.get("turn") == index), key=lambda c: c["start"])
        pieces, cursor = [], 0
        for cause in marks:
            alpha = 0.25 + 0.75 * cause["score"] / top
            pieces.append(html.escape(turn[cursor : cause["start"]]))
            word = html.escape(turn[cause["start"] : cause["end"]])
            agrees = " agrees" if cause.get("agrees") else ""
            note = ", the SEM's attribution agrees" if agrees else ""
            pieces.append(
                f'<mark class="cause{agrees}" title="score {cause["score"]:.3f}{note}" '
                f'data-score="{cause["score"]:.4f}" style="background:rgba(224,105,58,{alpha:.2f})">{word}</mark>'
            )
            cursor = cause["end"]
        pieces.append(html.escape(turn[cursor:]))
        role = "Speaker (user)" if index % 2 == 0 else "Listener (assistant)"
        lines.append(f'<p class="turn-text"><span class="speaker">{role}:</span>{"".join(pieces)}</p>')
    return "".join(lines) + agreement_html(causes)


def agreement_html(causes: list[dict[str, Any]]) -> str:
    """Say which tagged cause words the SEM's attribution also chose (only when both were computed)."""
    if not any("agrees" in cause for cause in causes):
        return ""
    shared = [html.escape(cause["word"]) for cause in causes if cause["agrees"]]
    return f'<p class="agreement">Tagger and SEM attribution agree on: {", ".join(shared) or "no word"}</p>'


def turn_html(number: int, turn: TurnTrace) -> str:
    """Render one turn's section."""
    state = turn.state
    visited = [node for node, _ in turn.steps]
    timing = "".join(f'<tr class="timing"><td>{node}</td><td>{seconds * 1000:.0f} ms</td>'
                     f'<td><span class="bar" style="width:{max(1, int(60 * seconds))}px"></span></td></tr>'
                     for node, seconds in turn.steps)  # fmt: skip
    decisions = [judgement_row(judgement) for judgement in state.get("judgements", [])] or [
        "<tr><td>judgements</td><td>none run</td></tr>"
    ]
    decisions.append(
        f"<tr><td>final emotion</td><td><b id='emotion-{number}'>{html.escape(state.get('emotion') or '-')}</b> "
        f"(decided by: {html.escape(state.get('emotion_stage') or 'no model: input check')})</td></tr>"
    )
    return (
        f'<section class="turn" id="turn-{number}"><h2>Turn {number}</h2>'
        f'<div class="graph">{graph_svg(turn.shape, visited)}</div>'
        f"<h3>Per-node timing</h3><table>{timing}</table>"
        f"<h3>Dialogue and cause words</h3>{dialogue_html(state.get('dialogue', []), state.get('cause_words', []))}"
        "<h3>SEM distribution (top-k marked)</h3>"
        f"{distribution_html(state.get('sem_distribution', {}), state.get('primary_emotions', []))}"
        f"<h3>Stage decisions</h3><table>{''.join(decisions)}</table>"
        f"<h3>Notes given to the LLM</h3>{notes_html(state.get('guidance'))}{opener_html(state.get('guidance'))}"
        f"{memory_html(state)}"
        f'<h3>Reply</h3><p class="reply">{html.escape(state.get("reply", ""))}</p></section>'
    )  # fmt: skip


def notes_html(guidance: dict[str, Any] | None) -> str:
    """The reply's notes, or why there were none (every gate stayed shut, or no reply was drafted)."""
    if guidance is None:
        return "<p>no reply drafted</p>"
    if not guidance.get("offered", True):
        return "<p class='notes'>none: this LLM gets no notes (Context.reply_notes)</p>"
    if not guidance["notes"]:
        return (f"<p class='notes'>none: no evidence passed its gate (move {guidance.get('move_mass', 0.0):.2f}, "
                f"emotion {guidance['emotion_probability']:.2f}, valence {guidance['valence_mass']:.2f}, "
                f"cause {guidance['cause_score']:.2f})</p>")  # fmt: skip
    return "<ul class='notes'>" + "".join(f"<li>{html.escape(note)}</li>" for note in guidance["notes"]) + "</ul>"


def opener_html(guidance: dict[str, Any] | None) -> str:
    """The words the reply was begun with, when its move passed the gate (``Context.reply_opener``)."""
    if not guidance or not guidance.get("opener"):
        return ""
    return (
        f"<p class='opener'>reply begun with \u201c{html.escape(guidance['opener'])}\u201d "
        f"(move mass {guidance['move_mass']:.2f})</p>"
    )


def memory_html(state: dict[str, Any]) -> str:
    """What the turn recalled from the person's earlier threads and what it stored (memory on only)."""
    recalled, remembered = state.get("recalled_memories") or [], state.get("remembered")
    if not recalled and not remembered:
        return ""
    rows = [f"<tr class='recalled'><td>recalled (thread {html.escape(str(m['thread_id']))}, {m['time'][:10]})</td>"
            f"<td>{html.escape(m['emotion'])} about <b>{html.escape(m['cause'])}</b> "
            f"(similarity {m['similarity']:.2f})</td></tr>" for m in recalled]  # fmt: skip
    if remembered:
        rows.append(f"<tr class='remembered'><td>remembered</td><td>{html.escape(remembered['emotion'])} "
                    f"({remembered['valence']}) about <b>{html.escape(remembered['cause'])}</b></td></tr>")  # fmt: skip
    return f"<h3>Memory across threads</h3><table>{''.join(rows)}</table>"


def judgement_row(judgement: dict[str, Any]) -> str:
    """One judgement record: its stage, method, choice, and the scores, answer or error behind it."""
    stage = {"primary": "stage one (judge_primary)", "fallback": "stage two (judge_fallback)"}.get(
        judgement["stage"], judgement["stage"]
    )
    detail = describe(judgement)  # type: ignore[arg-type]
    return (f"<tr class='judgement' data-stage='{judgement['stage']}' data-method='{judgement['method']}'>"
            f"<td>{html.escape(stage)}</td><td><b>{html.escape(str(judgement['choice']))}</b> "
            f"<span class='decision'>{html.escape(detail)}</span></td></tr>")  # fmt: skip


def render_html(turns: list[TurnTrace], title: str = "HEF trace") -> str:
    """Return the whole page: inline CSS and SVG only, so it opens offline."""
    body = "".join(turn_html(i + 1, turn) for i, turn in enumerate(turns)) or "<p>No finished turn.</p>"
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>")  # fmt: skip
