"""Reading releasebot.toml into a ReleasebotConfig, or a ConfigError naming every problem."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import ValidationError

from bot.domain.config.model import ReleasebotConfig
from bot.domain.config.problems import ConfigError, ConfigProblem, format_location

# Python 3.11's TOMLDecodeError has no lineno/colno yet; its message ends with the position.
_TOML_POSITION = re.compile(r"^(?P<what>.*?)\s*\(at line (?P<line>\d+), column (?P<column>\d+)\)$")


def load_config(path: str | Path) -> ReleasebotConfig:
    """Read and validate the file; raise ConfigError listing every problem found."""
    source = Path(path)
    try:
        text = source.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(source, [ConfigProblem("", "file not found")]) from None
    except UnicodeDecodeError as error:
        problem = f"not UTF-8 text (byte {error.start} cannot be decoded)"
        raise ConfigError(source, [ConfigProblem("", problem)]) from None
    except OSError as error:
        raise ConfigError(
            source, [ConfigProblem("", f"cannot be read: {error.strerror}")]
        ) from None
    return parse_config(text, path=source)


def parse_config(text: str, *, path: Path) -> ReleasebotConfig:
    """Validate TOML text that was read from `path` (which anchors relative paths)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path, [_syntax_problem(str(error), text)]) from None
    try:
        return ReleasebotConfig.model_validate(data, context={"base_dir": path.absolute().parent})
    except ValidationError as error:
        problems = [
            ConfigProblem(format_location(detail["loc"]), detail["msg"])
            for detail in error.errors()
        ]
        raise ConfigError(path, problems) from None


def _syntax_problem(message: str, text: str) -> ConfigProblem:
    match = _TOML_POSITION.match(message)
    if match is None:
        what = message.removesuffix(" (at end of document)")
        lines = text.splitlines() or [""]
        # The parser ran out of text: point at the end of the last line.
        return ConfigProblem(
            "", f"invalid TOML: {what}", line=len(lines), column=len(lines[-1]) + 1
        )
    return ConfigProblem(
        "",
        f"invalid TOML: {match['what']}",
        line=int(match["line"]),
        column=int(match["column"]),
    )
