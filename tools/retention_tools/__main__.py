"""``python -m retention`` is the ``retention`` command."""

import sys

from retention_tools.cli import main

sys.exit(main())
