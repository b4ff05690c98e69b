"""Serving people's emotional data safely: tokens, who owns what, and the LangGraph server's auth handlers.

``tokens`` (who is talking), ``policy`` (what they may touch), ``identity`` (the person a run acts for),
``config`` (the deployment's choice of verifier) and ``server`` (LangGraph's ``Auth`` object, which
``langgraph.json`` names). Only ``server`` imports langgraph-sdk; in process none of this is needed.
"""
