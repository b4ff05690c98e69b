"""Prompt templates of HEF-Graph, shipped as the ``hef_graph.prompts`` package data (text files only)."""
