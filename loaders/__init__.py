"""Turning source files and documents into validated records and writes: the dataset format
(``dataset.toml`` and one table per kind; read in :mod:`manifest`, :mod:`tables`, :mod:`records`,
written in :mod:`template`), the load with its report (:mod:`load`), uploaded archives
(:mod:`archive`), the bundled datasets and the synthetic generator (:mod:`generate`).

May import: :mod:`graph_service.core` only. A load writes through the ``GraphStore`` protocol;
it never imports a backend, talks Cypher or networkx, or reaches into the app.
"""
