"""The graph ``langgraph dev`` serves (see langgraph.json); the server supplies the checkpointer."""

from hef_graph.graph import build_graph

graph = build_graph()
