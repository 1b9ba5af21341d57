"""Serial port IO: a reading thread per port that survives unplugging, and line splitting.

Nothing here knows a frame format: :mod:`edge_agent.readers` (card readers) and
:mod:`edge_agent.doors` (door controllers) decode what these threads read.
"""
