"""The backends: the embedded store (networkx, in the process, a snapshot on disk) and the Neo4j
store (the official driver; the only Cypher in the project), and :func:`bootstrap.make_store`, the
one place that picks a backend from the settings.

May import: :mod:`graph_service.core` only. Every difference between the backends stays behind the
``GraphStore`` protocol, so nothing above this package asks which backend it holds.
"""
