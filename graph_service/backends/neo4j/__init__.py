"""The Neo4j backend: :class:`store.Neo4jStore` and the Cypher it runs (:mod:`cypher`).

May import: :mod:`graph_service.core` and the ``neo4j`` driver.
"""
