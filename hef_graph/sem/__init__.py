"""SEM and cause-tagger inference: the classifier and its parts, attribution, the tagger, the LangChain tool.

Training and evaluation live in the lab (``hef_graph.lab``).
"""
