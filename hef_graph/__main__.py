"""Allow ``python -m hef_graph``."""

from hef_graph.cli import main

main()
