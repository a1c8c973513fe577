"""Exchange of :class:`~neurocircuits.data.spikes.SpikeTrains` with other neuroscience formats.

* :mod:`neurocircuits.io.neo_io` — lists of Neo ``SpikeTrain`` objects (Garcia et al. 2014,
  "Neo: an object model for handling electrophysiology data in multiple formats",
  Front. Neuroinform. 8:10, doi:10.3389/fninf.2014.00010).
* :mod:`neurocircuits.io.nwb_io` — the units table of a Neurodata Without Borders file
  (Rübel et al. 2022, "The Neurodata Without Borders ecosystem for neurophysiological data
  science", eLife 11:e78362, doi:10.7554/eLife.78362).

Both need the optional extra ``pip install neurocircuits[io]`` (neo, quantities, pynwb); the
functions raise an ``ImportError`` saying so when the packages are missing. The core package
never imports them.
"""

from neurocircuits.io.neo_io import from_neo, to_neo
from neurocircuits.io.nwb_io import read_nwb_units, write_nwb_units

__all__ = ["to_neo", "from_neo", "write_nwb_units", "read_nwb_units"]
