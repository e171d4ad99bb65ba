"""One TLS context per process for every HTTP client.

Building a context loads the system's CA store: about 20 ms each time. Each refresh opens one
client per chain plus one for prices, so building it anew stalled the window by ~20 ms per
client. An ``ssl.SSLContext`` is safe to share between clients and threads once configured.
"""

from __future__ import annotations

import functools
import ssl


@functools.cache
def tls_context() -> ssl.SSLContext:
    import httpx

    return httpx.create_ssl_context()
