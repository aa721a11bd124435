"""Who publishes: the account's own connector, or the demo network for the demo's accounts."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from clameur.accounts.service import (
    ConnectorFactory,
    account_config,
    record_error,
    save_updated_config,
)
from clameur.connectors import registry
from clameur.connectors.base import AuthError, OutgoingPost, Published
from clameur.connectors.secrets import SecretBox
from clameur.kit.time import utcnow
from clameur.models import NetworkAccount, Publication
from clameur.publishing.dispatch import PublicationSender
from clameur.store.engine import unit_of_work


def outgoing(publication: Publication) -> OutgoingPost:
    """The publication as a connector writes it."""
    return OutgoingPost(
        text=publication.body,
        idempotency_key=publication.idempotency_key,
        created_at=publication.created_at,
        media_urls=tuple(publication.media_urls or ()),
        media_alts=tuple(publication.media_alts or ()),
    )


class ConnectorPublisher:
    """Publishes through the connector of the account, with its decrypted settings; a token
    the connector refreshed on the way is stored again, encrypted; a refused token marks the
    account as needing attention."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        box: SecretBox,
        create: ConnectorFactory = registry.create,
        fallback: PublicationSender | None = None,
    ) -> None:
        self.factory = factory
        self.box = box
        self.create = create
        # Accounts without settings (the demo's) publish through this one, when given.
        self.fallback = fallback

    def send_publication(self, publication: Publication, account: NetworkAccount) -> Published:
        """Publish through the account's connector (idempotent by the publication's key)."""
        if account.config_encrypted is None and self.fallback is not None:
            return self.fallback.send_publication(publication, account)
        connector = self.create(account.network, account_config(self.box, account))
        try:
            published = connector.publish(outgoing(publication))
        except AuthError as error:
            # The same as when listening: the account needs attention, the managers are told.
            with unit_of_work(self.factory) as session:
                stored = session.get(NetworkAccount, account.id)
                if stored is not None:
                    record_error(stored, error, utcnow())
            raise
        finally:
            self._keep_refreshed_config(account.id, connector)
            connector.close()
        return published

    def _keep_refreshed_config(self, account_id: int, connector: Any) -> None:
        if connector.updated_config() is None:
            return
        with unit_of_work(self.factory) as session:
            stored = session.get(NetworkAccount, account_id)
            if stored is not None:
                save_updated_config(self.box, stored, connector)
