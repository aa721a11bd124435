"""What routes depend on: the request's database session, the user, the workspace."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from clameur.kit.errors import ClameurError, Forbidden, NotFound
from clameur.models import User, Workspace
from clameur.workspaces.service import list_workspaces

USER_KEY = "user_id"
WORKSPACE_KEY = "workspace_id"
LOCALE_KEY = "locale"


class LoginRequired(ClameurError):
    """No one is signed in."""

    status_code = 401


def get_db(request: Request) -> Iterator[Session]:
    """A session for the request: committed when the route succeeds, rolled back on error."""
    session: Session = request.app.state.session_factory()
    try:
        yield session
        session.commit()
    finally:
        # Without a commit, closing rolls the transaction back; unlike rollback(), it leaves the
        # rows already loaded readable, so an error page can still say who is signed in.
        session.close()


# scope="function": the commit happens before the response leaves, so a failed commit is a 500
# and the next request already sees the change.
Db = Annotated[Session, Depends(get_db, scope="function")]


def current_user(request: Request, db: Db) -> User:
    """The signed-in user, else LoginRequired."""
    user_id = request.session.get(USER_KEY)
    user = db.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active:
        request.session.pop(USER_KEY, None)
        raise LoginRequired("Sign in to continue.")
    request.state.user = user
    request.state.locale = user.locale
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def editor(user: CurrentUser) -> User:
    """The signed-in user, provided they may change things (viewers may not)."""
    if not user.can_edit:
        raise Forbidden("Viewers can look but not change anything.")
    return user


Editor = Annotated[User, Depends(editor)]


def manager(user: CurrentUser) -> User:
    """The signed-in user, provided they are a manager or an administrator."""
    if not user.is_manager:
        raise Forbidden("Only managers and administrators can do this.")
    return user


Manager = Annotated[User, Depends(manager)]


def current_workspace(request: Request, db: Db, user: CurrentUser) -> Workspace:
    """The workspace chosen in this session, else the first one."""
    workspaces = list_workspaces(db)
    if not workspaces:
        raise NotFound("There is no workspace yet: run `clameur demo load` or import a file first.")
    chosen = request.session.get(WORKSPACE_KEY)
    workspace = next((each for each in workspaces if each.id == chosen), workspaces[0])
    request.state.workspace = workspace
    request.state.workspaces = workspaces
    return workspace


CurrentWorkspace = Annotated[Workspace, Depends(current_workspace)]
