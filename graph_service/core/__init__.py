"""The ground floor: the ontology (node and relationship kinds, provenance), errors, settings, the
text rules, spreadsheet cells, memory helpers and the ``GraphStore`` protocol every backend implements.

May import: the standard library and third-party packages only — nothing of the project above it
(not the backends, ``queries``, ``loaders``, ``visualizations`` or the app).
"""
