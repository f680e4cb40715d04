"""Serve ferrofetch's loopback test server on 127.0.0.1:8080 (or the port given) until Ctrl-C.

``/bytes/N`` answers N bytes, ``/status/N`` that status, ``/redirect/N`` redirects N times; any
other path answers a short text. The other examples fetch from it.

    python examples/serve.py [PORT]
"""

import sys
import time

import ferrofetch
import ferrofetch.testing

port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
with ferrofetch.testing.LoopbackServer(port) as server:
    print(f"serving {server.url} (Ctrl-C to stop)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
