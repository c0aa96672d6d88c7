"""The top floor: the FastAPI app (``api``), the planners' pages (``web``, ``templates``, ``static``),
the ``innograph`` command (``cli``), the exports and the round trips with other tools (``interop``).

May import: everything below it — :mod:`graph_service.core`, :mod:`graph_service.backends` (through
``make_store``), ``queries``, ``loaders`` and ``visualizations``. Holds no query logic.
"""
