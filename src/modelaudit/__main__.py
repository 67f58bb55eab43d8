"""`python -m modelaudit`."""

import sys

from modelaudit.cli.main import main

sys.exit(main())
