"""The small empathetic model: data, classifier, attribution, training and its LangChain tool."""
