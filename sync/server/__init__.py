"""The reference implementation of the national API contract: tests, pilots, demos.

Run it with `onesend reference-server`; it is left out of the desktop bundle. A development
reference only: it keeps payloads in the clear (the national service must encrypt them at
rest).
"""

from sync.server.app import ServerConfig, create_app
from sync.server.faults import Faults
from sync.server.main import ServerThread, administer, serve

__all__ = ["Faults", "ServerConfig", "ServerThread", "administer", "create_app", "serve"]
