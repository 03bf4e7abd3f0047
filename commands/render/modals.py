"""Modals: the full plan form of `/release new`, and the reason a rejection needs."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    DateTimePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from commands.ids import BlockId, ViewId


def _select(placeholder: str, names: list[str]) -> StaticSelectElement:
    return StaticSelectElement(
        action_id="value",
        placeholder=placeholder,
        options=[Option(text=name, value=name) for name in names[:100]],
    )


def new_plan(
    *, services: list[str], environments: list[str], strategies: list[str], channel_id: str
) -> dict[str, Any]:
    """The `/release new` modal with every plan field."""
    blocks = [
        InputBlock(
            block_id=BlockId.SERVICE, label="Service", element=_select("Pick a service", services)
        ),
        InputBlock(
            block_id=BlockId.VERSION,
            label="Version",
            element=PlainTextInputElement(
                action_id="value", placeholder="tag, sha or 1.4.2", max_length=128
            ),
            hint="A git ref, tag or sha, or an artifact version.",
        ),
        InputBlock(
            block_id=BlockId.ENVIRONMENT,
            label="Environment",
            element=_select("Pick an environment", environments),
        ),
        InputBlock(
            block_id=BlockId.WINDOW_START,
            label="Window opens",
            element=DateTimePickerElement(action_id="value"),
            optional=True,
        ),
        InputBlock(
            block_id=BlockId.WINDOW_END,
            label="Window closes",
            element=DateTimePickerElement(action_id="value"),
            optional=True,
        ),
        InputBlock(
            block_id=BlockId.STRATEGY,
            label="Rollout strategy",
            element=_select("The service's default", strategies),
            optional=True,
        ),
        InputBlock(
            block_id=BlockId.AFTER,
            label="After (dependencies)",
            element=PlainTextInputElement(action_id="value", placeholder="R-3, R-7"),
            optional=True,
        ),
        InputBlock(
            block_id=BlockId.RISKS,
            label="Risks",
            element=PlainTextInputElement(action_id="value", multiline=True, max_length=2000),
            optional=True,
            hint="One per line.",
        ),
        InputBlock(
            block_id=BlockId.NOTES,
            label="Notes and known issues",
            element=PlainTextInputElement(action_id="value", multiline=True, max_length=2000),
            optional=True,
        ),
        InputBlock(
            block_id=BlockId.STAKEHOLDERS,
            label="Stakeholders",
            element=UserMultiSelectElement(action_id="value", placeholder="Keep informed"),
            optional=True,
        ),
    ]
    view = View(
        type="modal",
        callback_id=ViewId.NEW_PLAN,
        title="Plan a release",
        submit="Plan",
        close="Cancel",
        private_metadata=channel_id,
        blocks=blocks,
    )
    return view.to_dict()


def reject_reason(*, plan_ref: str, plan_id: int, approval_round: int) -> dict[str, Any]:
    """Asks the approver why, before a rejection counts."""
    view = View(
        type="modal",
        callback_id=ViewId.REJECT_REASON,
        title=f"Reject {plan_ref}"[:24],
        submit="Reject",
        close="Back",
        private_metadata=f"{plan_id}:{approval_round}",
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(text=f"Tell the requester what to fix in *{plan_ref}*.")
            ),
            InputBlock(
                block_id=BlockId.REASON,
                label="Reason",
                element=PlainTextInputElement(action_id="value", multiline=True, max_length=2000),
            ),
        ],
    )
    return view.to_dict()
