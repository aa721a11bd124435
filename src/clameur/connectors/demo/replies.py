"""The demo network's reply endpoint: accepts the team's replies, and now and then the customer
answers back a few seconds later.

It keeps the outbox's contract (clameur.inbox.outbox): a reply sent again with the same
idempotency key is not published again and gets the same id. The id is derived from the key,
and the connector remembers the keys it published in memory and, across restarts, by looking
for the published post in the store (read only: it writes nothing).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from clameur.connectors.base import Published
from clameur.connectors.demo.workspace import BRAND_ACCOUNTS
from clameur.kit.time import utcnow
from clameur.models import Conversation, NetworkAccount, Post, Publication, Reply

_THANKS = {
    "fr": ["Merci !", "Merci pour la réponse 🙏", "Super, merci beaucoup"],
    "en": ["Thanks!", "Thank you, that helps", "Great, thanks a lot"],
}
_STILL_WAITING = {
    "fr": [
        "Merci, mais j'attends toujours mon remboursement…",
        "Ok mais concrètement je fais quoi ?",
    ],
    "en": ["Thanks, still waiting for my refund though", "Ok but what do I actually do now?"],
}


@dataclass(slots=True)
class _Answer:
    due: datetime
    workspace_id: int
    record: dict[str, Any]


class DemoReplies:
    """Publishes replies and posts on the demo's networks; `pending_answers` hands back the
    customers' answers once due (seeded, so a run can be replayed)."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        seed: int = 2017,
        answer_probability: float = 0.35,
        answer_delay: timedelta = timedelta(seconds=5),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.factory = factory
        self.rng = random.Random(seed)
        self.answer_probability = answer_probability
        self.answer_delay = answer_delay
        self.clock = clock
        self.published: dict[str, str] = {}  # idempotency key -> external id, this process
        self._answers: list[_Answer] = []
        self._lock = threading.Lock()

    def _already_stored(self, network: str, external_id: str) -> bool:
        with self.factory() as session:
            found = session.scalar(
                select(Post.id).where(Post.network == network, Post.external_id == external_id)
            )
        return found is not None

    def send_reply(
        self, reply: Reply, conversation: Conversation, in_reply_to_post: Post | None
    ) -> str:
        """Publish the reply (once per idempotency key); return its id on the network."""
        key = reply.idempotency_key
        external_id = f"reply-{key}"
        with self._lock:
            if key in self.published or self._already_stored(conversation.network, external_id):
                return external_id
            self.published[key] = external_id
            if in_reply_to_post is not None and in_reply_to_post.author is not None:
                if self.rng.random() < self.answer_probability:
                    self._answers.append(self._answer(conversation, in_reply_to_post, external_id))
        return external_id

    def send_publication(self, publication: Publication, account: NetworkAccount) -> Published:
        """Publish a post from one of the demo's accounts (once per idempotency key)."""
        key = publication.idempotency_key
        external_id = f"post-{key}"
        with self._lock:
            replayed = key in self.published or self._already_stored(account.network, external_id)
            self.published[key] = external_id
        return Published(
            external_id, f"https://demo.invalid/{account.network}/{external_id}", replayed=replayed
        )

    def _answer(self, conversation: Conversation, customer_post: Post, reply_id: str) -> _Answer:
        lang = "fr" if (customer_post.lang or "fr") == "fr" else "en"
        pool = _THANKS if self.rng.random() < 0.5 else _STILL_WAITING
        due = self.clock() + self.answer_delay
        author = customer_post.author
        assert author is not None
        record = {
            "id": f"{reply_id}-answer",
            "network": conversation.network,
            "text": self.rng.choice(pool[lang]),
            "created_at": due.isoformat(),
            "author": {
                "handle": author.handle,
                "name": author.display_name or author.handle,
                "followers": author.followers,
            },
            "lang": lang,
            "in_reply_to": reply_id,
            "conversation_id": conversation.thread_key,
        }
        return _Answer(due, conversation.workspace_id, record)

    def pending_answers(self, now: datetime) -> list[tuple[int, dict[str, Any]]]:
        """The customers' answers due by `now`, each returned once."""
        with self._lock:
            due = [answer for answer in self._answers if answer.due <= now]
            self._answers = [answer for answer in self._answers if answer.due > now]
        return [(answer.workspace_id, answer.record) for answer in due]


def demo_reply_connectors(
    factory: sessionmaker[Session], seed: int = 2017, networks: Iterable[str] | None = None
) -> dict[str, DemoReplies]:
    """One demo endpoint for every network the demo workspace has an account on (and the
    "demo" network): what a runner of a demo installation delivers replies through."""
    endpoint = DemoReplies(factory, seed=seed)
    names = set(networks) if networks is not None else {a["network"] for a in BRAND_ACCOUNTS}
    return {network: endpoint for network in sorted(names | {"demo"})}
