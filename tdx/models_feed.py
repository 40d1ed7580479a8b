"""Ticket feed: the entries TDX returns (``ItemUpdate``) and the one we post."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from .fields import OptionalInt, TdxDateTime, TdxList, TdxModel, TdxRequestModel, TdxUid


class FeedReply(TdxModel):
    """A reply under a feed entry."""

    id: int
    body: str | None = None
    is_rich_html: bool | None = None
    created_uid: TdxUid = None
    created_ref_id: OptionalInt = None
    created_full_name: str | None = None
    created_first_name: str | None = None
    created_last_name: str | None = None
    created_by_pic_path: str | None = None
    created_date: TdxDateTime = None


class FeedItem(TdxModel):
    """A feed entry (TDX ``ItemUpdate``). ``body`` is HTML.

    ``update_type``: 0 None, 1 Comment, 2 StatusChange, 3 Edit, 4 Created, 5 MyWorkChange,
    6 Merge, 7 MovedComment. ``replies`` may be empty even when ``replies_count`` is not.
    """

    id: int
    created_uid: TdxUid = None
    created_ref_id: OptionalInt = None
    created_full_name: str | None = None
    created_first_name: str | None = None
    created_last_name: str | None = None
    created_by_pic_path: str | None = None
    created_date: TdxDateTime = None
    last_updated_date: TdxDateTime = None
    project_id: OptionalInt = None
    project_name: str | None = None
    plan_id: OptionalInt = None
    plan_name: str | None = None
    item_type: OptionalInt = None
    item_id: OptionalInt = None
    item_title: str | None = None
    reference_id: OptionalInt = None
    body: str | None = None
    update_type: OptionalInt = None
    notified_list: str | None = None
    is_private: bool | None = None
    is_communication: bool | None = None
    is_parent: bool | None = None
    replies: TdxList[FeedReply] = Field(default_factory=list)
    replies_count: OptionalInt = None
    likes_count: OptionalInt = None
    has_attachment: bool | None = None
    uri: str | None = None


class TicketFeedEntry(TdxRequestModel):
    """What we post to ``{appId}/tickets/{id}/feed``.

    ``notify`` is a list of e-mail addresses (unlike a ticket's ``Notify``). A ``new_status_id``
    of None keeps the status. At least one of a comment or a status change is required.
    """

    comments: str | None = None
    is_private: bool = False
    is_rich_html: bool = False
    is_communication: bool | None = None
    notify: list[str] = Field(default_factory=list)
    new_status_id: int | None = Field(default=None, gt=0)
    cascade_status: bool = False

    @model_validator(mode="after")
    def _comment_or_status(self) -> Self:
        if not (self.comments and self.comments.strip()) and self.new_status_id is None:
            raise ValueError("a feed entry needs comments or a new_status_id")
        return self
