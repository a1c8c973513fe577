"""Data: recordings (``SpikeTrains``), spike encoders and procedural tasks. Import from the submodules."""
