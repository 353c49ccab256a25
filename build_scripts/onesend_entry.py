"""Entry script of the packaged executable: the same `onesend` command as the console script."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
