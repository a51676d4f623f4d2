"""``python -m shared.ops …``."""

import sys

from shared.ops.cli import main

sys.exit(main())
