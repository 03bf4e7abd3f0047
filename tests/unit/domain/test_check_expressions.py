"""The condition language: what admins write in releasebot.toml, and what it refuses."""

from __future__ import annotations

import ast
import contextlib
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.checks import expressions
from bot.domain.checks.expressions import (
    MAX_DEPTH,
    ConditionError,
    describe,
    load_condition,
    parse_condition,
    validate_condition_text,
)
from bot.domain.errors import InvalidInput

NAN = math.nan
INF = math.inf


@pytest.mark.parametrize(
    ("text", "result", "expected"),
    [
        ("result < 0.01", 0.005, True),
        ("result < 0.01", 0.031, False),
        ("result[0] >= 0.95", [0.97], True),
        ("result[0] >= 0.95", [0.90, 0.99], False),
        ("result[1] >= 0.95", [0.90, 0.99], True),
        ("result[0] >= 9.5e-1", [0.95], True),
        ("result <= 10 and result > 2", 3, True),
        ("result <= 10 && result > 2", 11, False),
        ("result < 1 or result > 9", 10, True),
        ("result < 1 || result > 9", 5, False),
        ("not result > 1", 0.5, True),
        ("!(result > 1)", 2, False),
        ("result == 0", 0, True),
        ("result != 0", 0, False),
        ("(result + 1) * 2 == 4", 1, True),
        ("result - 1 / 2 == 0.5", 1, True),  # precedence: 1 - (1 / 2)
        ("-result < 0", 1, True),
        ("result / 0 > 1e308", 1, True),  # IEEE: x/0 is +Inf, as in PromQL
        ("isNaN(result / 0)", 0, True),
        ("isNaN(result)", NAN, True),
        ("isNaN(result[0])", [1.0], False),
        ("isInf(result)", INF, True),
        ("isInf(result[0]) and result[0] < 0", [-INF], True),
        ("result > 0.5", NAN, False),  # NaN never passes a threshold
        ("len(result) == 0", [], True),
        ("len(result) > 0 and result[0] < 1", [], False),  # and short-circuits
        ("abs(result) < 1", -0.5, True),
        ("max(result) < 1", [0.1, 0.9], True),
        ("min(result) > 0.1", [0.1, 0.9], False),
        ("max(result[0], result[1]) == 0.9", [0.1, 0.9], True),
        ("default(result[0], 0) == 0", [], True),
        ("default(result[0], 0) == 0.7", [0.7], True),
        ("default(result, 1) == 1", NAN, True),
        ("true", 0, True),
        ("false or result == 1", 1, True),
        ("true == (result > 1)", 2, True),
    ],
)
def test_conditions_evaluate_like_argo(
    text: str, result: float | list[float], expected: bool
) -> None:
    assert parse_condition(text).evaluate(result) is expected


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("result > 0.01)", "unexpected ')' at column 14", 14),
        ("(result > 0.01", "expected ')' but found end of condition at column 15", 15),
        ("result >", "unexpected end of condition at column 9", 9),
        ("result > > 1", "unexpected '>' at column 10", 10),
        ("result = 1", "unexpected '=' at column 8; did you mean '=='?", 8),
        ("resutl < 1", "unknown name 'resutl' at column 1", 1),
        ("result < 1 < 2", "comparisons cannot be chained (column 12)", 12),
        ("result + 1", "a condition must be true or false", 1),
        ("result", "a condition must be true or false", 1),
        ("not 3", "'not' at column 1 cannot take a number", 1),
        ("result > true", "'>' at column 8 cannot take a true/false value", 8),
        ("(result > 1) and 2", "'and' at column 14 cannot take a number", 14),
        ("result[0][0] > 1", "indexing at column 10 cannot take a number", 10),
        ("len(result[0]) > 1", "len() at column 1 cannot take a number", 1),
        ("isNaN() ", "isNaN() at column 1 takes one argument, not 0", 1),
        ("default(result) > 1", "default() at column 1 takes two arguments, not 1", 1),
        ("len > 1", "expected '(' but found '>' at column 5", 5),
        ("1.2.3 > 1", "malformed number at column 1", 1),
        ("result > 'x'", 'unexpected "\'" at column 10', 10),
        ("__import__('os').system('id')", 'unexpected "\'" at column 12', 12),
        ("result.real > 1", "unexpected '.' at column 7", 7),
        ("", "the condition is empty", 1),
        ("   ", "the condition is empty", 1),
    ],
)
def test_bad_conditions_are_refused_naming_the_column(
    text: str, message: str, position: int
) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_condition(text)
    assert message in caught.value.message
    assert caught.value.position == position


def test_condition_errors_are_invalid_input_the_user_reads() -> None:
    with pytest.raises(InvalidInput):
        parse_condition("result >")


def test_overlong_conditions_are_refused_before_parsing() -> None:
    with pytest.raises(ConditionError, match="501 characters long; the limit is 500"):
        parse_condition("result > " + "1" * 492)
    assert parse_condition("result > " + "1" * 491).text.startswith("result")


def test_nesting_is_bounded() -> None:
    within = "(" * (MAX_DEPTH - 1) + "result > 1" + ")" * (MAX_DEPTH - 1)
    assert parse_condition(within).evaluate(2)
    too_deep = "(" * MAX_DEPTH + "result > 1" + ")" * MAX_DEPTH
    with pytest.raises(ConditionError, match="nests deeper than 32 levels at column 33"):
        parse_condition(too_deep)
    with pytest.raises(ConditionError, match="nests deeper"):
        parse_condition("not " * 40 + "true")


def test_long_flat_chains_parse_and_evaluate() -> None:
    chain = " + ".join(["1"] * 120) + " == 120"
    assert parse_condition(chain).evaluate(0)


@pytest.mark.parametrize(
    ("text", "result", "message"),
    [
        ("result > 0.01", [0.5, 0.6], "result is a list of 2 values; pick one, like result[0]"),
        ("result[0] > 0.01", [], "result[0] does not exist; result has 0 value(s)"),
        ("result[2] > 0.01", [1.0], "result[2] does not exist; result has 1 value(s)"),
        ("result[0] > 0.01", 0.5, "result is a single number, not a list"),
        ("result[0.5] > 0.01", [1.0], "0.5 is not a whole number"),
        ("result[-1] > 0.01", [1.0], "result[-1] does not exist"),
        ("len(result) > 0", 0.5, "result is a single number, not a list"),
        ("max(result) > 0", [], "max() at column 1: result has no values"),
        ("result + 1 > 0", [1.0], "'+' at column 8: result is a list of 1 values"),
    ],
)
def test_evaluation_type_errors_are_condition_errors(
    text: str, result: float | list[float], message: str
) -> None:
    condition = parse_condition(text)
    with pytest.raises(ConditionError) as caught:
        condition.evaluate(result)
    assert message in caught.value.message


def test_a_non_numeric_result_is_refused() -> None:
    with pytest.raises(ConditionError, match="a number or a list of numbers"):
        parse_condition("result > 1").evaluate(True)


def test_load_condition_names_the_config_key() -> None:
    with pytest.raises(ConditionError) as caught:
        load_condition("checks.api-errors.failure", "result > 0.01)")
    assert caught.value.message == (
        "checks.api-errors.failure: unexpected ')' at column 14 in 'result > 0.01)'"
    )
    with pytest.raises(ConditionError, match=r"^checks.x.success: expected a condition in quotes"):
        load_condition("checks.x.success", 0.5)
    assert load_condition("checks.x.success", "result < 1").evaluate(0)


@pytest.mark.parametrize(
    ("result", "role", "expected"),
    [
        (0.031, "failure", "result 0.031 vs failure condition 'result > 0.01'"),
        ([0.5, NAN], "success", "result [0.5, NaN] vs success condition 'result > 0.01'"),
        (INF, None, "result +Inf vs condition 'result > 0.01'"),
        ([1, 2, 3, 4, 5, 6, 7], None, "result [1, 2, 3, 4, 5, … 7 values] vs condition"),
    ],
)
def test_describe_reads_well_in_a_thread(
    result: float | list[float], role: str | None, expected: str
) -> None:
    condition = parse_condition("result > 0.01")
    assert describe(condition, result, role).startswith(expected)  # type: ignore[arg-type]


# Pieces an attacker or a careless admin might type; joined at random they probe the parser.
PIECES = st.sampled_from(
    [
        "result", "result[0]", "(", ")", "[", "]", ",", " ", "and", "or", "not", "&&", "||",
        "!", "<", "<=", ">", ">=", "==", "!=", "=", "+", "-", "*", "/", "0", "1", "0.5",
        "1e308", "1e-9", ".5", "1e", "len(", "isNaN(", "isInf(", "abs(", "min(", "max(",
        "default(", "true", "false", "__import__", "'os'", ".system", "lambda", ":", "\\",
        "\x00", "\n", "é", "🙂", "9" * 30,
    ]
)  # fmt: skip
RESULTS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=4),
)


@settings(max_examples=400, deadline=None)
@given(text=st.lists(PIECES, max_size=40).map("".join), result=RESULTS)
def test_random_conditions_only_ever_raise_condition_error(
    text: str, result: float | list[float]
) -> None:
    try:
        condition = parse_condition(text)
    except ConditionError:
        return
    with contextlib.suppress(ConditionError):
        assert isinstance(condition.evaluate(result), bool)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=600))
def test_arbitrary_text_only_ever_raises_condition_error(text: str) -> None:
    with contextlib.suppress(ConditionError):
        parse_condition(text).evaluate(1.0)


def test_python_in_a_condition_is_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payloads = [
        f"__import__('pathlib').Path('{marker}').touch()",
        f"result > 0 or __import__('pathlib').Path('{marker}').touch()",
        f"[open('{marker}', 'w') for _ in 'x'] and true",
    ]
    for payload in payloads:
        with pytest.raises(ConditionError):
            parse_condition(payload).evaluate(1.0)
    assert not marker.exists()


def test_the_module_has_no_way_to_run_python() -> None:
    tree = ast.parse(Path(expressions.__file__).read_text())
    names = {
        n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    attributes = {
        n.func.attr
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
    }
    imported = {
        alias.name
        for n in ast.walk(tree)
        if isinstance(n, ast.Import | ast.ImportFrom)
        for alias in n.names
    }
    assert not names & {"eval", "exec", "compile", "__import__", "getattr", "open"}
    assert not attributes & {"literal_eval", "eval", "exec"}
    assert not imported & {"ast", "builtins", "importlib", "subprocess", "os"}
    assert "_tokenize" in names  # the scan sees calls at all


def test_the_config_hook_raises_value_error_with_the_column() -> None:
    validate_condition_text("result[0] >= 0.95")
    with pytest.raises(ValueError, match=r"^unexpected '\)' at column 14$"):
        validate_condition_text("result > 0.01)")
