"""commands/fast_reads.py `form_fields` reads a slash command's form as `parse_qs` does."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

from hypothesis import given
from hypothesis import strategies as st

from commands.fast_reads import form_fields

NAMES = ["command", "team_id", "enterprise_id", "text", "ssl_check", "response_url", "user_id"]


def _as_parse_qs_reads(body: str) -> dict[str, str]:
    fields = parse_qs(body, keep_blank_values=True)
    wanted = ("command", "team_id", "enterprise_id", "text", "ssl_check")
    return {name: values[0] for name, values in fields.items() if name in wanted}


@given(
    st.lists(
        st.tuples(st.sampled_from(NAMES), st.text(max_size=20)),
        max_size=12,
    ),
    st.booleans(),
)
def test_the_fields_are_those_parse_qs_reads(pairs: list[tuple[str, str]], quote: bool) -> None:
    body = urlencode(pairs)
    if quote:  # names spelt with escapes read the same
        body = body.replace("team_id=", "team%5Fid=").replace("text=", "t%65xt=")
    assert form_fields(body) == _as_parse_qs_reads(body)


def test_what_slack_sends_and_odd_bodies() -> None:
    # The fields and values of Slack's own example of a slash command request (api.slack.com,
    # "Implementing slash commands"), with this bot's command and text.
    slack = (
        "token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&team_domain=example&enterprise_id=E0001"
        "&channel_id=C2147483705&user_id=U2147483697&command=%2Frelease&text=show+R-12"
        "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1234%2F5678&trigger_id=13.1"
    )
    for body in (slack, "", "text", "text=&text=list", "command=%2Frelease&text=a%26b%3Dc", "=x"):
        assert form_fields(body) == _as_parse_qs_reads(body), body
    assert form_fields(slack)["text"] == "show R-12"
