"""HEF-Graph: the Hybrid Empathetic Framework as a LangGraph agent graph."""

from hef_graph.context import Context
from hef_graph.errors import EncryptionKeyError, HandoffError, IdentityMismatch, InvalidInput
from hef_graph.graph import build_graph
from hef_graph.handoff import pending_handoff, resume_handoff
from hef_graph.labels import EMOTIONS
from hef_graph.llm import LLMRuntime, as_runtime, load_llm
from hef_graph.persistence import sqlite_checkpointer
from hef_graph.sem.cause_tagger import CauseTagger
from hef_graph.sem.classifier import EmotionClassifier
from hef_graph.sem.protocol import CauseFinder, EmotionModel
from hef_graph.sem.resident import load_cause_tagger, load_sem
from hef_graph.sem.tool import SEMTool
from hef_graph.state import HEFState, InputState

__all__ = [
    "EMOTIONS", "CauseFinder", "CauseTagger", "Context", "EmotionClassifier", "EmotionModel", "EncryptionKeyError",
    "HEFState", "HandoffError", "IdentityMismatch", "InputState", "InvalidInput", "LLMRuntime", "SEMTool",
    "as_runtime", "build_graph", "load_cause_tagger", "load_llm", "load_sem", "pending_handoff", "resume_handoff",
    "sqlite_checkpointer",
]  # fmt: skip
