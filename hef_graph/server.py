"""The graph ``langgraph dev`` serves (see langgraph.json); the server supplies the checkpointer and the store.

Every request is authenticated (``hef_graph.auth.server``, named in langgraph.json): each person reaches only
their own threads and memories. Emotional memory is off unless ``HEF_MEMORY=1`` is set for the server, and
then the server refuses to start without authentication; the run's person is the authenticated caller, so
runs pass no ``user_id`` (one naming someone else is refused).
"""

import os

from hef_graph.auth.config import check_memory_serving
from hef_graph.graph import build_graph

MEMORY = os.environ.get("HEF_MEMORY") == "1"
check_memory_serving(MEMORY)
graph = build_graph(memory=MEMORY)
