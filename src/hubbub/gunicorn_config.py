"""gunicorn's settings for Hubbub's servers of tiers 1 and 2: `make serve` reads them with
`--config python:hubbub.gunicorn_config`, and its command line adds the workers and address.

Each worker is a gevent server: a stream is a greenlet, not a thread, so one worker holds
thousands of them.
"""

from __future__ import annotations

import gc
from typing import Any

wsgi_app = "hubbub:create_app()"
worker_class = "gevent"
worker_connections = 10_000
graceful_timeout = 5


def post_worker_init(worker: Any) -> None:
    """Leave what start-up made out of the garbage collector's full passes.

    A worker holds about 140,000 objects once the app is built (modules, the ORM's mappers,
    the schemas), and they live as long as it does. Python's full collection walks every one
    of them, 35 ms on a 2-core machine, and a request that meets one waits as long (W6's
    slowest searches on tier 1 were such pauses). Frozen, they are left out of every
    collection; what requests make is still collected. (The Python documentation's gc.freeze.)
    """
    gc.freeze()
