"""Terminal views shared by `hef respond` and `hef chat`."""

from __future__ import annotations

from typing import Any


def decision_table(state: dict[str, Any]) -> Any:
    """Summarise what each node decided, for the terminal."""
    from rich.table import Table

    table = Table(title="What HEF decided", show_header=True, header_style="bold")
    table.add_column("node")
    table.add_column("decision")
    distribution = state["sem_distribution"]
    primary = ", ".join(f"{label} {distribution[label]:.2f}" for label in state["primary_emotions"])
    table.add_row("detect_emotion", f"top-k: {primary}")
    table.add_row("judge_primary", f"answer: {state['primary_judgement']!r}")
    if state.get("fallback_judgement") is not None:
        table.add_row("judge_fallback", f"answer: {state['fallback_judgement']!r}")
    table.add_row("emotion", f"[bold]{state['emotion']}[/] (decided by: {state['emotion_stage']})")
    causes = ", ".join(f"{c['word']} {c['score']:.2f}" for c in state["cause_words"]) or "(none)"
    table.add_row("perceive_causes", causes)
    return table
