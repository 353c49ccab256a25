"""`python -m app`: the `onesend` command."""

import multiprocessing
import sys

from app.cli import main

multiprocessing.freeze_support()  # a no-op unless frozen (see build_scripts/onesend_entry.py)
sys.exit(main())
