"""Peak RSS of a process that runs the default graph (the default LLM + the shipped SEM) for five turns.

Run: python benchmarks/peak_rss.py
"""

from __future__ import annotations

import resource

from hef_graph import build_graph

TURNS = ["My dog died this morning.", "I got the job!", "My sister borrowed my car and returned it empty.",
         "I have my exam tomorrow.", "I miss my old friends."]  # fmt: skip


def main() -> None:
    """Run the turns, then print the peak resident set size."""
    graph = build_graph()
    for text in TURNS:
        graph.invoke({"messages": [("user", text)]})
    print(f"peak_rss_mb {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}")


if __name__ == "__main__":
    main()
