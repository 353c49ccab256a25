"""`python -m app`: the `onesend` command."""

import sys

from app.cli import main

sys.exit(main())
