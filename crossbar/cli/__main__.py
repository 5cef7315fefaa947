"""``python -m crossbar.cli``: the ``crossbar`` command."""

import sys

from . import main

sys.exit(main())
