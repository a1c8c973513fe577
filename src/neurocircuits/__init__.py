"""neurocircuits: build, simulate, train and analyse brain-inspired neural networks, and
reproduce the mechanisms that neuroscience-meets-AI research describes, one command each.

Subpackages: ``sdr`` (sparse distributed representations and dendritic segments),
``experiments`` (one reproduction per catalog row). See ``neurocircuits list``.
"""

__version__ = "0.1.0"
