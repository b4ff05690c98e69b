"""The lab: SEM and cause-tagger training, `hef eval`, metrics and judges. A chatbot never needs it.

The runtime (everything in ``hef_graph`` outside this package) never imports it; the ``hef`` command line
reaches it only inside its lab commands. Its extra dependencies install with ``pip install 'hef-graph[eval]'``
(nltk, matplotlib) and ``'hef-graph[train]'`` (scikit-learn).
"""
