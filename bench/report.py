"""Writing one section of BENCHMARKS.md, leaving every other section as it is."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "BENCHMARKS.md"


def rewrite_section(document: str, heading: str, new_section: str) -> str:
    """`document` with the section under `heading` replaced (or appended); others untouched."""
    if not document.strip():
        document = "# Benchmarks\n"
    lines = document.splitlines()
    try:
        start = lines.index(heading)
    except ValueError:
        return document.rstrip("\n") + "\n\n" + new_section.rstrip("\n") + "\n"
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    before = "\n".join(lines[:start]).rstrip("\n")
    after = "\n".join(lines[end:])
    joined = (before + "\n\n" if before else "") + new_section.rstrip("\n") + "\n"
    return joined + ("\n" + after.rstrip("\n") + "\n" if after else "")


def record(heading: str, new_section: str) -> None:
    """Rewrite one section of BENCHMARKS.md, keeping every other section as it is."""
    current = BENCHMARKS.read_text() if BENCHMARKS.exists() else ""
    BENCHMARKS.write_text(rewrite_section(current, heading, new_section))
    print(f"wrote the {heading[3:]!r} section of {BENCHMARKS.relative_to(REPO)}")
