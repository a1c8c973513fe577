import sys

from neurocircuits.cli import main

sys.exit(main())
