"""``python -m graphsampler`` runs the command line (also under ``torchrun``)."""
import sys

from graphsampler.cli import main

sys.exit(main())
