"""Workspaces (brands and their competitors) and the people who use them."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clameur.kit.errors import ClameurError, Conflict, NotFound
from clameur.models import Competitor, NetworkAccount, Role, User, Workspace

_hasher = PasswordHasher()
MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches the hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def add_user(
    session: Session, email: str, name: str, password: str, role: Role | str = Role.agent
) -> User:
    """Create a user; the e-mail must be new and the password long enough."""
    email = email.strip().lower()
    if "@" not in email:
        raise ClameurError(f"{email!r} is not an e-mail address")
    if len(password) < MIN_PASSWORD:
        raise ClameurError(f"the password must have at least {MIN_PASSWORD} characters")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"a user with e-mail {email} already exists")
    user = User(
        email=email,
        name=name.strip() or email.split("@")[0],
        password_hash=hash_password(password),
        role=Role(role),
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with these credentials, or None."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active:
        # Hash anyway so that timing does not tell which e-mails exist.
        verify_password(_DUMMY_HASH, password)
        return None
    return user if verify_password(user.password_hash, password) else None


_DUMMY_HASH = _hasher.hash("not-a-password")


def create_workspace(
    session: Session,
    slug: str,
    name: str,
    competitors: list[str] | None = None,
    timezone: str = "Europe/Paris",
) -> Workspace:
    """Create a brand workspace with its competitors."""
    slug = slug.strip().lower()
    if session.scalar(select(Workspace.id).where(Workspace.slug == slug)) is not None:
        raise Conflict(f"a workspace {slug!r} already exists")
    workspace = Workspace(slug=slug, name=name, timezone=timezone)
    workspace.competitors = [Competitor(name=c) for c in competitors or []]
    session.add(workspace)
    session.flush()
    return workspace


def get_workspace(session: Session, slug: str) -> Workspace:
    """The workspace with this slug."""
    workspace = session.scalar(select(Workspace).where(Workspace.slug == slug.strip().lower()))
    if workspace is None:
        known = ", ".join(session.scalars(select(Workspace.slug).order_by(Workspace.slug)))
        raise NotFound(f"no workspace {slug!r} (known: {known or 'none'})")
    return workspace


def resolve_workspace(
    session: Session, slug: str | None, create_default: bool = False
) -> Workspace:
    """The named workspace, else the only one, else a new 'default' one if allowed."""
    if slug:
        return get_workspace(session, slug)
    workspaces = list(session.scalars(select(Workspace).order_by(Workspace.id).limit(2)))
    if len(workspaces) == 1:
        return workspaces[0]
    if not workspaces:
        if create_default:
            return create_workspace(session, "default", "Default")
        raise NotFound("there is no workspace yet: run `clameur demo load` or import a file")
    raise ClameurError("there are several workspaces: choose one with --workspace")


def list_workspaces(session: Session) -> list[Workspace]:
    """Every workspace, oldest first."""
    return list(session.scalars(select(Workspace).order_by(Workspace.id)))


def add_account(
    session: Session, workspace: Workspace, network: str, handle: str, display_name: str = ""
) -> NetworkAccount:
    """Attach one of the brand's own network accounts (idempotent)."""
    handle = handle.lstrip("@")
    account = session.scalar(
        select(NetworkAccount).where(
            NetworkAccount.workspace_id == workspace.id,
            NetworkAccount.network == network,
            NetworkAccount.handle == handle,
        )
    )
    if account is None:
        account = NetworkAccount(
            workspace_id=workspace.id, network=network, handle=handle, display_name=display_name
        )
        session.add(account)
        session.flush()
    return account


def count_users(session: Session) -> int:
    """How many users exist."""
    return int(session.scalar(select(func.count(User.id))) or 0)
