"""graph_service: the ground floor, the backends and the top floor of innograph.

- :mod:`graph_service.core` — the ontology, errors, settings, text rules and the ``GraphStore``
  protocol; imports nothing of the project above it.
- :mod:`graph_service.backends` — the embedded (networkx) and Neo4j stores and the one place that
  picks between them; imports only the core.
- :mod:`graph_service.app` — the API, the pages, the command line and the exports; the top floor,
  free to import everything below it.
"""
