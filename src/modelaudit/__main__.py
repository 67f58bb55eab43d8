"""`python -m modelaudit`."""

import sys

from modelaudit.cli.app import main

sys.exit(main())
