"""HEF's five graph nodes, one module each (installed as ``hef_graph.nodes``)."""
