"""Entry script of the packaged executable: the same `onesend` command as the console script."""

import multiprocessing
import sys

if __name__ == "__main__":
    # A worker process of the bundle (finalise judges on every core, `spawn`ed) starts here
    # too: it runs its task and exits before the command is even imported.
    multiprocessing.freeze_support()
    from app.cli import main

    sys.exit(main())
