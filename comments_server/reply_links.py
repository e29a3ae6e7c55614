"""What a signed reply link (in an author's notification email) opens, and why one is refused.
No Flask; `Conversations.open_reply_link` and `reply_by_link` produce these, the dashboard draws them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from comments_server.models import Author, Comment, Thread


class LinkRefusal(Enum):
    """Why a reply link cannot be used."""

    INVALID = "invalid"              # forged or expired
    USED = "used"                    # each link answers once
    AUTHOR_GONE = "author_gone"      # the account it was made for was removed
    COMMENT_GONE = "comment_gone"    # the comment it answers no longer exists


class ReplyLinkRefused(Exception):
    """A reply link that cannot be used: `refusal` says why, the message is for the author."""

    def __init__(self, refusal: LinkRefusal, message: str) -> None:
        super().__init__(message)
        self.refusal = refusal
        self.message = message


@dataclass(frozen=True)
class ReplyDraft:
    """What a valid reply link opens: the comment to answer, with its context, and as whom."""

    nonce: str                 # marks the link used once the reply is published
    comment: Comment
    parent: Comment | None
    thread: Thread
    post_link: str
    author: Author | None      # None: a link made for the legacy AUTHOR_TOKENS author


@dataclass(frozen=True)
class ReplyByLink:
    """A reply sent through a link: published (`reply`, seen at `reply_url`), or refused for its
    body (`problem`), in which case the link stays unused."""

    draft: ReplyDraft
    reply: Comment | None = None
    reply_url: str = ""
    problem: str = ""
