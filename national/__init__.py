"""The national service: where every assessment arrives (a deployable of its own, never in
the desktop bundle). PostgreSQL for the service, SQLite for the laptop reference
(`onesend reference-server`); run and administer it with `onesend-server`.

It imports only the wire contract (`contract`) and the forms engine (`forms`).
"""

from national.app import ServerConfig, create_app
from national.faults import Faults
from national.main import ServerThread, administer, serve

__all__ = ["Faults", "ServerConfig", "ServerThread", "administer", "create_app", "serve"]
