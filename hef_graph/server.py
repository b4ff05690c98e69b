"""The graph ``langgraph dev`` serves (see langgraph.json); the server supplies the checkpointer and the store.

Emotional memory is off unless ``HEF_MEMORY=1`` is set for the server: with it on, every run must pass
``context={"user_id": ...}``, and the server's store (indexed by MiniLM, see langgraph.json) keeps the memories.
"""

import os

from hef_graph.graph import build_graph

graph = build_graph(memory=os.environ.get("HEF_MEMORY") == "1")
