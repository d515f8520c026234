"""The store layer: open a persistent knowledge graph, load, validate, query, export."""

from graph.store import KnowledgeGraph, StoreLocked

__all__ = ["KnowledgeGraph", "StoreLocked"]
