"""`python -m modelaudit`."""

import sys

from modelaudit.cli.main import entry

sys.exit(entry())
