"""The reference implementation of the national API contract: tests, pilots, demos.

Run it with `onesend reference-server`; it is left out of the desktop bundle.
"""

from sync.server.app import ServerConfig, create_app
from sync.server.faults import Faults
from sync.server.main import ServerThread, serve

__all__ = ["Faults", "ServerConfig", "ServerThread", "create_app", "serve"]
