"""Exit 0 when every URL's host and port accept a TCP connection."""

import socket
import sys
from urllib.parse import urlparse

DEFAULT_PORTS = {"postgres": 5432, "postgresql": 5432, "redis": 6379, "amqp": 5672}

for url in sys.argv[1:]:
    parsed = urlparse(url)
    address = (parsed.hostname or "127.0.0.1", parsed.port or DEFAULT_PORTS[parsed.scheme])
    try:
        socket.create_connection(address, timeout=3).close()
    except OSError as e:
        print(f"{parsed.scheme} at {address[0]}:{address[1]} is unreachable: {e}", file=sys.stderr)
        sys.exit(1)
