"""Terminal views shared by `hef respond` and `hef chat`."""

from __future__ import annotations

from typing import Any


def decision_table(state: dict[str, Any]) -> Any:
    """Summarise what each node decided, for the terminal."""
    from rich.markup import escape
    from rich.table import Table

    from hef_graph.judging import describe

    table = Table(title="What HEF decided", show_header=True, header_style="bold")
    table.add_column("node")
    table.add_column("decision")
    distribution = state.get("sem_distribution", {})
    primary = ", ".join(f"{label} {distribution[label]:.2f}" for label in state.get("primary_emotions", []))
    table.add_row("detect_emotion", f"top-k: {primary}" if primary else "not run (input check)")
    for judgement in state.get("judgements", []):
        node = "judge_primary" if judgement["stage"] == "primary" else "judge_fallback"
        table.add_row(node, escape(describe(judgement)))
    table.add_row("emotion", f"[bold]{state.get('emotion')}[/] (decided by: {state.get('emotion_stage')})")
    causes = ", ".join(f"{c['word']} {c['score']:.2f}" for c in state["cause_words"]) or "(none)"
    table.add_row("perceive_causes", causes)
    if (guidance := state.get("guidance")) is not None:
        silent = "no notes (below every gate)" if guidance.get("offered", True) else "no notes (this LLM gets none)"
        table.add_row("draft_response", escape(" ".join(guidance["notes"])) or silent)
        if guidance.get("opener"):
            table.add_row("draft_response", f'reply begun with "{escape(guidance["opener"])}"')
    return table
