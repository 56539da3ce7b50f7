"""Exit 0 when a local service answers on its port: `python scripts/reachable.py postgres|redis`."""
import socket
import sys

PORTS = {"postgres": 5432, "redis": 6379}

name = sys.argv[1] if len(sys.argv) > 1 else "postgres"
try:
    with socket.create_connection(("127.0.0.1", PORTS[name]), timeout=1):
        pass
except OSError:
    sys.exit(1)
