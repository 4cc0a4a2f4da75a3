"""``python -m floatsim``: the same command line as the ``floatsim`` script."""

import sys

from .cli import main

sys.exit(main())
