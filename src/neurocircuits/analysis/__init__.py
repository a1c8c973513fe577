"""Analysis of population activity: pure functions over recordings (``SpikeTrains``, arrays)."""
