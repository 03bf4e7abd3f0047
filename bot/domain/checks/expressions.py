"""The safe condition language of checks: `result[0] >= 0.95`, parsed by hand, never eval'd.

The grammar follows Argo Rollouts analysis conditions, kept small: numbers, `result` (a number
or a list of numbers), indexing, arithmetic, comparisons, `and`/`or`/`not` (also `&&`, `||`,
`!`), `true`/`false`, and the functions `len`, `isNaN`, `isInf`, `abs`, `min`, `max` and
`default(x, fallback)`. Types are checked when the condition is parsed, so `result + 1` or
`not 3` are refused at config load, not at 3 a.m. during a release.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Literal

from bot.domain.errors import InvalidInput

MAX_LENGTH = 500
MAX_DEPTH = 32

Measured = float | Sequence[float]
# Runtime values: a number, the measured list, or a truth value.
_Value = float | tuple[float, ...] | bool


class ConditionError(InvalidInput):
    """A condition that cannot be parsed or evaluated; `position` is a 1-based column."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


class _Kind(Enum):
    NUMBER = "a number"
    BOOL = "a true/false value"
    MEASURED = "the measured result"


# ---------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class _Token:
    kind: Literal["number", "name", "op", "end"]
    text: str
    column: int


_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = ("<=", ">=", "==", "!=", "&&", "||", "<", ">", "!", "+", "-", "*", "/")
_PUNCTUATION = "()[],"


def _tokenize(text: str) -> list[_Token]:
    """Split a condition into tokens; any character outside the language is refused."""
    tokens: list[_Token] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char in " \t\r\n":
            index += 1
            continue
        column = index + 1
        if number := _NUMBER.match(text, index):
            if (after := number.end()) < len(text) and (
                text[after].isalnum() or text[after] in "_."
            ):
                raise ConditionError(f"malformed number at column {column}", column)
            tokens.append(_Token("number", number.group(), column))
            index = number.end()
            continue
        if name := _NAME.match(text, index):
            tokens.append(_Token("name", name.group(), column))
            index = name.end()
            continue
        operator = next((op for op in _OPERATORS if text.startswith(op, index)), None)
        if operator is None and char in _PUNCTUATION:
            operator = char
        if operator is None:
            hint = "; did you mean '=='?" if char == "=" else ""
            raise ConditionError(f"unexpected {char!r} at column {column}{hint}", column)
        tokens.append(_Token("op", operator, column))
        index += len(operator)
    tokens.append(_Token("end", "", len(text) + 1))
    return tokens


# ---------------------------------------------------------------------------- syntax tree


@dataclass(frozen=True)
class _Number:
    value: float
    kind: _Kind = _Kind.NUMBER


@dataclass(frozen=True)
class _Truth:
    value: bool
    kind: _Kind = _Kind.BOOL


@dataclass(frozen=True)
class _Result:
    kind: _Kind = _Kind.MEASURED


@dataclass(frozen=True)
class _Index:
    target: _Node
    index: _Node
    column: int
    kind: _Kind = _Kind.NUMBER


@dataclass(frozen=True)
class _Unary:
    op: str
    operand: _Node
    column: int
    kind: _Kind


@dataclass(frozen=True)
class _Binary:
    op: str
    left: _Node
    right: _Node
    column: int
    kind: _Kind


@dataclass(frozen=True)
class _Call:
    name: str
    args: tuple[_Node, ...]
    column: int
    kind: _Kind


_Node = _Number | _Truth | _Result | _Index | _Unary | _Binary | _Call

_NUMERIC = (_Kind.NUMBER, _Kind.MEASURED)
_COMPARISONS = frozenset({"<", "<=", ">", ">=", "==", "!="})
_ALIASES = {"&&": "and", "||": "or", "!": "not"}
# Binding powers (left, right): or < and < not < comparisons < + - < * / < unary minus < [ ].
_INFIX: dict[str, tuple[int, int]] = {
    "or": (10, 11),
    "and": (20, 21),
    **{op: (40, 41) for op in _COMPARISONS},
    "+": (50, 51),
    "-": (50, 51),
    "*": (60, 61),
    "/": (60, 61),
}
_NOT_POWER = 30
_NEGATE_POWER = 70
_INDEX_POWER = 90
_FUNCTIONS = frozenset({"len", "isNaN", "isInf", "abs", "min", "max", "default"})


def _describe_token(token: _Token) -> str:
    return "end of condition" if token.kind == "end" else repr(token.text)


class _Parser:
    """Recursive descent with binding powers (Pratt); builds a type-checked tree."""

    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
        self._at = 0

    def parse(self) -> _Node:
        node = self._expression(0, 1)
        self._expect_end()
        if node.kind is not _Kind.BOOL:
            raise ConditionError(
                f"a condition must be true or false, but this gives {node.kind.value}; "
                "compare it, like 'result < 0.01'",
                1,
            )
        return node

    def _peek(self) -> _Token:
        return self._tokens[self._at]

    def _advance(self) -> _Token:
        token = self._tokens[self._at]
        if token.kind != "end":
            self._at += 1
        return token

    def _unexpected(self, token: _Token) -> ConditionError:
        return ConditionError(
            f"unexpected {_describe_token(token)} at column {token.column}", token.column
        )

    def _expect(self, text: str) -> _Token:
        token = self._advance()
        if token.kind != "op" or token.text != text:
            raise ConditionError(
                f"expected '{text}' but found {_describe_token(token)} at column {token.column}",
                token.column,
            )
        return token

    def _expect_end(self) -> None:
        token = self._peek()
        if token.kind != "end":
            raise self._unexpected(token)

    def _expression(self, min_power: int, depth: int) -> _Node:
        if depth > MAX_DEPTH:
            column = self._peek().column
            raise ConditionError(
                f"the condition nests deeper than {MAX_DEPTH} levels at column {column}", column
            )
        left = self._prefix(self._advance(), depth)
        chained_comparison = False
        while True:
            token = self._peek()
            op = _ALIASES.get(token.text, token.text) if token.kind in ("op", "name") else ""
            if op == "[" and min_power <= _INDEX_POWER:
                self._advance()
                index = self._expression(0, depth + 1)
                self._expect("]")
                _checked(left, (_Kind.MEASURED,), token, "indexing")
                left = _Index(
                    left, _checked(index, (_Kind.NUMBER,), token, "an index"), token.column
                )
                continue
            powers = _INFIX.get(op)
            if powers is None or powers[0] < min_power:
                return left
            if op in _COMPARISONS:
                if chained_comparison:
                    raise ConditionError(
                        f"comparisons cannot be chained (column {token.column}); "
                        "join them with 'and'",
                        token.column,
                    )
                chained_comparison = True
            self._advance()
            # Same depth: operators are left-associative, so a flat chain never nests.
            right = self._expression(powers[1], depth)
            left = _binary(op, left, right, token)

    def _prefix(self, token: _Token, depth: int) -> _Node:
        if token.kind == "number":
            return _Number(float(token.text))
        word = _ALIASES.get(token.text, token.text) if token.kind in ("op", "name") else ""
        if word == "not":
            operand = self._expression(_NOT_POWER, depth + 1)
            return _Unary(
                "not", _checked(operand, (_Kind.BOOL,), token, "'not'"), token.column, _Kind.BOOL
            )
        if word == "-":
            operand = self._expression(_NEGATE_POWER, depth + 1)
            return _Unary(
                "-", _checked(operand, _NUMERIC, token, "'-'"), token.column, _Kind.NUMBER
            )
        if word == "(":
            inner = self._expression(0, depth + 1)
            self._expect(")")
            return inner
        if token.kind == "name":
            return self._name(token, depth)
        raise self._unexpected(token)

    def _name(self, token: _Token, depth: int) -> _Node:
        if token.text == "result":
            return _Result()
        if token.text in ("true", "false"):
            return _Truth(token.text == "true")
        if token.text in _FUNCTIONS:
            self._expect("(")
            args: list[_Node] = []
            if not (self._peek().kind == "op" and self._peek().text == ")"):
                args.append(self._expression(0, depth + 1))
                while self._peek().kind == "op" and self._peek().text == ",":
                    self._advance()
                    args.append(self._expression(0, depth + 1))
            self._expect(")")
            return _call(token, tuple(args))
        raise ConditionError(
            f"unknown name '{token.text}' at column {token.column}; "
            "the measured value is called 'result'",
            token.column,
        )


def _checked(node: _Node, allowed: tuple[_Kind, ...], token: _Token, what: str) -> _Node:
    """Refuse an operand of the wrong type, naming the operator and its column."""
    if node.kind not in allowed:
        raise ConditionError(
            f"{what} at column {token.column} cannot take {node.kind.value}", token.column
        )
    return node


def _binary(op: str, left: _Node, right: _Node, token: _Token) -> _Node:
    """Build a binary node after checking its operand types."""
    what = f"'{token.text}'"
    if op in ("and", "or"):
        allowed: tuple[_Kind, ...] = (_Kind.BOOL,)
        kind = _Kind.BOOL
    elif op in _COMPARISONS:
        bools = (_Kind.BOOL,) if op in ("==", "!=") and left.kind is _Kind.BOOL else None
        allowed = bools or _NUMERIC
        kind = _Kind.BOOL
    else:
        allowed = _NUMERIC
        kind = _Kind.NUMBER
    _checked(left, allowed, token, what)
    _checked(right, allowed, token, what)
    return _Binary(op, left, right, token.column, kind)


def _call(token: _Token, args: tuple[_Node, ...]) -> _Node:
    """Build a function call after checking how many arguments it got and of which type."""
    name = token.text
    what = f"{name}()"

    def arity(expected: str, ok: bool) -> None:
        if not ok:
            raise ConditionError(
                f"{what} at column {token.column} takes {expected}, not {len(args)}", token.column
            )

    if name in ("len", "isNaN", "isInf", "abs"):
        arity("one argument", len(args) == 1)
        _checked(args[0], (_Kind.MEASURED,) if name == "len" else _NUMERIC, token, what)
        kind = _Kind.BOOL if name.startswith("is") else _Kind.NUMBER
    elif name in ("min", "max"):
        arity("one list or several numbers", len(args) >= 1)
        for arg in args:
            _checked(arg, _NUMERIC, token, what)
        kind = _Kind.NUMBER
    else:  # default
        arity("two arguments", len(args) == 2)
        _checked(args[0], _NUMERIC, token, what)
        _checked(args[1], (_Kind.NUMBER,), token, f"the fallback of {what}")
        kind = args[0].kind
    return _Call(name, args, token.column, kind)


# ---------------------------------------------------------------------------- evaluation


def _number(value: _Value, where: str) -> float:
    """The value as a number, or an error a person can act on."""
    if isinstance(value, tuple):
        raise ConditionError(
            f"{where}: result is a list of {len(value)} values; pick one, like result[0]"
        )
    if isinstance(value, bool):
        raise ConditionError(f"{where}: expected a number, got a true/false value")
    return value


def _divide(left: float, right: float) -> float:
    # IEEE semantics, as PromQL has them: x/0 is ±Inf and 0/0 is NaN, never an exception.
    if right == 0:
        if left == 0 or math.isnan(left):
            return math.nan
        return math.copysign(math.inf, left) * math.copysign(1.0, right)
    return left / right


def _arithmetic(op: str, left: float, right: float) -> float:
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    return _divide(left, right)


def _compare(op: str, left: _Value, right: _Value, where: str) -> bool:
    if isinstance(left, bool) and isinstance(right, bool):
        return (left == right) == (op == "==")
    a, b = _number(left, where), _number(right, where)
    match op:
        case "<":
            return a < b
        case "<=":
            return a <= b
        case ">":
            return a > b
        case ">=":
            return a >= b
        case "==":
            return a == b
        case _:
            return a != b


def _evaluate(node: _Node, result: float | tuple[float, ...]) -> _Value:
    match node:
        case _Number(value) | _Truth(value):
            return value
        case _Result():
            return result
        case _Index(target, index, column):
            return _index(_evaluate(target, result), _evaluate(index, result), column)
        case _Unary("not", operand):
            return not _evaluate(operand, result)
        case _Unary(_, operand, column):
            return -_number(_evaluate(operand, result), f"'-' at column {column}")
        case _Binary("and", left, right):
            return bool(_evaluate(left, result)) and bool(_evaluate(right, result))
        case _Binary("or", left, right):
            return bool(_evaluate(left, result)) or bool(_evaluate(right, result))
        case _Binary(op, left, right, column) if op in _COMPARISONS:
            where = f"'{op}' at column {column}"
            return _compare(op, _evaluate(left, result), _evaluate(right, result), where)
        case _Binary(op, left, right, column):
            where = f"'{op}' at column {column}"
            a = _number(_evaluate(left, result), where)
            return _arithmetic(op, a, _number(_evaluate(right, result), where))
        case _Call(name, args, column):
            return _apply(name, args, column, result)
    raise AssertionError(f"unhandled node {node!r}")  # pragma: no cover - the parser builds all


def _index(target: _Value, index: _Value, column: int) -> float:
    where = f"index at column {column}"
    if not isinstance(target, tuple):
        raise ConditionError(f"{where}: result is a single number, not a list; drop the [..]")
    position = _number(index, where)
    if not position.is_integer():
        raise ConditionError(f"{where}: {position:g} is not a whole number")
    if not 0 <= position < len(target):
        raise ConditionError(
            f"{where}: result[{position:g}] does not exist; result has {len(target)} value(s)"
        )
    return target[int(position)]


def _apply(
    name: str, args: tuple[_Node, ...], column: int, result: float | tuple[float, ...]
) -> _Value:
    where = f"{name}() at column {column}"
    if name == "default":
        # The fallback stands in for a value that is missing (an index past the end, an empty
        # vector) or NaN: what Argo users reach for when a query returns nothing.
        try:
            value = _evaluate(args[0], result)
        except ConditionError:
            value = math.nan
        if value == () or (isinstance(value, float) and math.isnan(value)):
            return _evaluate(args[1], result)
        return value
    values = [_evaluate(arg, result) for arg in args]
    if name == "len":
        if not isinstance(values[0], tuple):
            raise ConditionError(f"{where}: result is a single number, not a list")
        return float(len(values[0]))
    if name in ("min", "max"):
        numbers = (
            list(values[0])
            if len(values) == 1 and isinstance(values[0], tuple)
            else [_number(value, where) for value in values]
        )
        if not numbers:
            raise ConditionError(f"{where}: result has no values")
        return min(numbers) if name == "min" else max(numbers)
    number = _number(values[0], where)
    if name == "isNaN":
        return math.isnan(number)
    if name == "isInf":
        return math.isinf(number)
    return abs(number)


# ---------------------------------------------------------------------------- public API


@dataclass(frozen=True)
class Condition:
    """A parsed, type-checked condition over the measured `result`."""

    text: str
    _root: _Node

    def evaluate(self, result: Measured) -> bool:
        """True when the condition holds; ConditionError when it cannot be evaluated."""
        outcome = _evaluate(self._root, _as_value(result))
        return bool(outcome)

    def __str__(self) -> str:
        return self.text


def _as_value(result: Measured) -> float | tuple[float, ...]:
    if isinstance(result, bool):
        raise ConditionError("result must be a number or a list of numbers")
    if isinstance(result, int | float):
        return float(result)
    values = tuple(result)
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in values):
        raise ConditionError("result must be a number or a list of numbers")
    return tuple(float(v) for v in values)


def parse_condition(text: str) -> Condition:
    """Parse and type-check a condition; raise ConditionError naming the column."""
    if len(text) > MAX_LENGTH:
        raise ConditionError(
            f"the condition is {len(text)} characters long; the limit is {MAX_LENGTH}",
            MAX_LENGTH + 1,
        )
    if not text.strip():
        raise ConditionError("the condition is empty; write one like 'result < 0.01'", 1)
    return Condition(text, _Parser(_tokenize(text)).parse())


def load_condition(key: str, text: object) -> Condition:
    """Parse a condition from config; the error names the key (`checks.api-errors.failure`)."""
    if not isinstance(text, str):
        raise ConditionError(f'{key}: expected a condition in quotes, like "result < 0.01"')
    try:
        return parse_condition(text)
    except ConditionError as error:
        raise ConditionError(f"{key}: {error.message} in {text!r}", error.position) from None


def validate_condition_text(text: str) -> None:
    """Raise ValueError naming the problem (for bot.domain.config.checks.CONDITION_VALIDATORS)."""
    try:
        parse_condition(text)
    except ConditionError as error:
        raise ValueError(error.message) from None


def format_result(result: Measured | None) -> str:
    """A measured value as people read it: `0.031`, `NaN`, `+Inf`, `[0.5, 0.7]`."""
    if result is None:
        return "nothing"
    if isinstance(result, int | float):
        return _format_number(float(result))
    values = list(result)
    shown = ", ".join(_format_number(float(v)) for v in values[:5])
    more = f", … {len(values)} values" if len(values) > 5 else ""
    return f"[{shown}{more}]"


def _format_number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:.6g}"


def describe(
    condition: Condition,
    result: Measured | None,
    role: Literal["success", "failure"] | None = None,
) -> str:
    """One line for a thread or an alert: `result 0.031 vs failure condition 'result > 0.01'`."""
    label = f"{role} condition" if role else "condition"
    return f"result {format_result(result)} vs {label} '{condition.text}'"
