"""``python -m engine``: the command-line interface without the app."""

import sys

from engine.cli import main

sys.exit(main())
