"""Who holds a lease: a name for this process that its own restart recognises.

Rollouts, owed messages and scheduled jobs are claimed by pushing a due time forward (a
lease) and naming the owner. A process killed mid-work leaves its leases behind; when the
same deployment slot starts again it takes them back at once instead of waiting them out.
A slot is host and port: two live processes cannot listen on one port of one host, so a
lease whose owner is our own slot belongs to a dead predecessor, never to a live process.
"""

from __future__ import annotations

import os
import socket
from uuid import uuid4

OWNER_LENGTH = 64


def slot_owner(port: int) -> str:
    """The owner name of the process serving `port` on this host, the same after a restart."""
    return f"{socket.gethostname()[:40]}:{port}"[:OWNER_LENGTH]


def process_owner() -> str:
    """An owner name unique to this process (for workers that have no slot of their own)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid4().hex[:8]}"[:OWNER_LENGTH]
