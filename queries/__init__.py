"""The catalog of named questions, written once against the ``GraphStore`` protocol: serving
(:mod:`serving`), gaps (:mod:`gaps`), recommendations (:mod:`recommend`), neighbourhoods and paths
(:mod:`explore`), search (:mod:`search`), brokers and communities (:mod:`analytics`), plans
(:mod:`plans`); their answers (:mod:`models`) and the words they explain paths with (:mod:`words`).

May import: :mod:`graph_service.core` only. A question never knows which backend runs it, and
never imports the views, the loaders or the app.
"""
