"""Who is who: user ids, `@groups`, `admins` and `anyone` as the domain resolves them."""

from __future__ import annotations

from bot.domain.context import DomainContext


def test_the_people_to_message_are_the_ids_and_every_member_of_each_group(
    ctx: DomainContext,
) -> None:
    # tests/conftest.py: @sre is U0APPROVER4 and U0ADMIN.
    assert ctx.people(["U0APPROVER1", "@sre", "U0ADMIN"]) == {
        "U0APPROVER1",
        "U0APPROVER4",
        "U0ADMIN",
    }
    assert ctx.people(["@nobody-knows"]) == set()


def test_a_member_of_a_listed_group_counts_and_anyone_means_everyone(ctx: DomainContext) -> None:
    assert ctx.is_member("U0APPROVER4", ["U0APPROVER1", "@sre"])
    assert not ctx.is_member("U0STRANGER", ["U0APPROVER1", "@sre"])
    assert ctx.is_member("U0STRANGER", ["anyone"])
    assert ctx.is_member("U0ADMIN", ["admins"])
    assert not ctx.is_member("U0APPROVER4", ["admins"])
