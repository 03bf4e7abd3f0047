"""What a release version may hold: the one rule every entry point and the deploy command share.

A version reaches deploy commands as an argument and in `RELEASE_VERSION`, and scripts use it
in `git checkout`, image tags and file paths. So it may not look like an option (`--help`,
`-rf`) or walk out of a directory (`../../etc/passwd`, `/etc/passwd`, `a\\b`), and it holds no
whitespace or control characters. Git refs (`release/1.4`) and image references
(`ghcr.io/acme/checkout@sha256:ab12`) keep their inner `/`: like git's own ref rules, each
part between slashes is non-empty and starts with neither `.` nor `-`, and `..` never occurs.
"""

from __future__ import annotations

import re

VERSION_LIMIT = 128
VERSION_RULE = (
    "use letters, digits and . _ / + @ : -, like 1.4.2, v2.0.0-rc.1 or 2026.11.26+build.7 "
    "(no part between slashes may be empty or start with - or ., and no ..)"
)
_CHARACTERS = re.compile(r"[A-Za-z0-9._/+@:-]+")


def is_safe_version(text: str) -> bool:
    """Whether `text` is a version that can be handed to a deploy command as it is."""
    if not text or len(text) > VERSION_LIMIT or not text.isascii():
        return False
    if not _CHARACTERS.fullmatch(text) or ".." in text:
        return False
    return all(part and not part.startswith(("-", ".")) for part in text.split("/"))
