import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("NEUROCIRCUITS_PROGRESS", "0")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
