"""``hef console``: the browser console for the three kinds of people who act on what HEF perceives.

A person chats and sees each turn's trace (``/``); a reviewer answers turns paused for a hand-off (``/inbox``);
a human rater ranks the replies of a blind packet (``/rate``). It runs the graph in process, or against a
LangGraph server (``--server``), and every asset it serves lives in this package: it works offline.
"""
