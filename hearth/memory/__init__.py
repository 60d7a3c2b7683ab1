"""Long-term memory: extraction, embedding, hybrid retrieval, consolidation.

Everything here reads and writes through `hearth.store`; extraction that needs an LLM takes a
backend as an argument.
"""
