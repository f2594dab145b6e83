"""``python -m retention`` is the ``retention`` command."""

import sys

from retention.cli import main

sys.exit(main())
