"""The alert rules, one module per family: doors, cards, network, gateways.

Each family turns observations into signals (:mod:`.base`); the engine's lifecycle turns
signals into alert phases, the same way for every rule.
"""
