"""``python -m studygym.cli ...``: the same as the ``studygym`` command."""

import sys

from studygym.cli import main

sys.exit(main())
