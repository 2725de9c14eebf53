"""``python -m pvcheck``."""

import sys

from pvcheck.cli import main

sys.exit(main())
