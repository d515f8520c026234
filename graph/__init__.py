"""The store layer: open a persistent knowledge graph, load, validate, query, export."""

from graph.settings import Settings
from graph.store import KnowledgeGraph, StoreLocked

__all__ = ["KnowledgeGraph", "Settings", "StoreLocked"]
