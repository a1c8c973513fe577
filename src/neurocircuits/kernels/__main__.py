"""``python -m neurocircuits.kernels``: build the C++ kernels now (``make setup`` runs it) and
say which backend the training engine will use."""

import sys

from neurocircuits import kernels
from neurocircuits.kernels import native


def main() -> int:
    try:
        path = native.build(verbose="-v" in sys.argv)
        print(f"native kernels: {path}")
    except RuntimeError as exc:
        print(f"native kernels unavailable ({exc}); the Numba kernels will be used", file=sys.stderr)
    print(f"kernel backend: {kernels.backend()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
