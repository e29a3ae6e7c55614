"""Receipts: the signed link to the page a reader lands on after posting from the HTML form, which
shows their comment, held or not. The signature (HMAC with SECRET_KEY) and its expiry keep anyone
else from reading a held comment by counting ids. No Flask here."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime
from typing import Any

from comments_server.errors import ApiError
from comments_server.models import Comment, Status
from comments_server.storage import Storage

RECEIPT_MAX_AGE = 86400   # seconds a receipt shows its comment


class Receipts:
    """Issues and checks receipts for comments stored in `storage`."""

    def __init__(self, storage: Storage, secret_key: str, clock: Callable[[], datetime],
                 max_age: int = RECEIPT_MAX_AGE) -> None:
        self.storage = storage
        self._secret = secret_key.encode("utf-8")
        self.clock = clock
        self.max_age = max_age

    def issue(self, comment_id: int) -> dict[str, str]:
        """The receipt's query parameters: the comment, until when, and the signature of both."""
        until = str(int(self.clock().timestamp()) + self.max_age)
        return {"comment": str(comment_id), "until": until, "sig": self._sign(str(comment_id), until)}

    def redeem(self, comment_id: Any, until: Any, signature: Any) -> Comment:
        """The comment a receipt shows; 404 for a receipt that is forged, expired or whose comment is gone."""
        if not (isinstance(comment_id, str) and comment_id.isdigit() and len(comment_id) <= 18
                and isinstance(until, str) and until.isdigit() and len(until) <= 12
                and isinstance(signature, str)
                and hmac.compare_digest(signature, self._sign(comment_id, until))):
            raise ApiError(404, "receipt_invalid", "this link is not valid")
        if int(until) < self.clock().timestamp():
            raise ApiError(404, "receipt_expired", "this link has expired")
        comment = self.storage.get_comment(int(comment_id))
        if comment is None or comment.status == Status.DELETED:
            raise ApiError(404, "not_found", f"comment {comment_id} does not exist")
        return comment

    def _sign(self, comment_id: str, until: str) -> str:
        mac = hmac.new(self._secret, f"receipt|{comment_id}|{until}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:18]).decode("ascii")
