"""Signing in with Xero, pairing Amazon Business, and who may see which organisation."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import httpx
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from abxero.amazon import AmazonTokens
from abxero.domain.lifecycles import ConnectionStatus, SetupStep
from abxero.runtime import Runtime, xero_tokens_as_dict
from abxero.store.db import transaction
from abxero.store.models import (
    AmazonAccountKey,
    AmazonConnection,
    EncryptedTokenSet,
    User,
    UserTenant,
    XeroConnection,
)
from abxero.store.tokens import read_token_set, save_token_set
from abxero.xero import IdentityClaims, TenantGrant, XeroError, XeroTokens


class NotFound(LookupError):
    """No such organisation for this user (also when it exists but is someone else's)."""


class AlreadyPaired(ValueError):
    """The Amazon Business account is already paired with another Xero organisation."""


@dataclass(frozen=True)
class Organisation:
    connection_id: int
    tenant_id: str
    name: str
    setup_step: str
    amazon_region: str | None
    status: str = ConnectionStatus.CONNECTED


def record_sign_in(
    runtime: Runtime,
    claims: IdentityClaims,
    tokens: XeroTokens,
    grants: Sequence[TenantGrant],
    *,
    take_over: Iterable[int] = (),
) -> int:
    """Store the user and the organisations Xero listed; the user id.

    An organisation syncs with one explicit grant. This sign-in's grant (encrypted) becomes it
    only where the organisation has none that works, where it already was this user's, or for
    the organisations in ``take_over`` (a deliberate "sync as me"). The grant it replaces is
    deleted, and revoked at Xero when it was another user's and nothing else uses it; a grant
    nothing uses is not kept.
    """
    chosen = set(take_over)
    with transaction(runtime.sessions) as session:
        user = session.scalars(select(User).where(User.xero_user_id == claims.xero_userid)).first()
        if user is None:
            user = User(xero_user_id=claims.xero_userid)
            session.add(user)
        user.email = claims.email or ""
        user.name = " ".join(part for part in (claims.given_name, claims.family_name) if part)
        session.flush()
        token_row = save_token_set(
            session,
            runtime.cipher,
            "xero",
            xero_tokens_as_dict(tokens),
            tokens.expires_at,
            issued_at=runtime.now(),
        )
        session.execute(delete(UserTenant).where(UserTenant.user_id == user.id))
        replaced: dict[int, bool] = {}
        for grant in grants:
            if grant.tenant_type.upper() != "ORGANISATION":
                continue
            connection = _upsert_tenant(session, grant, user.id)
            session.add(UserTenant(user_id=user.id, xero_connection_id=connection.id))
            if _takes_this_grant(connection, user.id, chosen):
                old, previous_owner = connection.token_set_id, connection.owner_user_id
                _sync_as(connection, grant, user.id, token_row.id)
                if old is not None and old != token_row.id:
                    replaced[old] = replaced.get(old, False) or previous_owner != user.id
        session.flush()
        to_revoke = _drop_unused(session, runtime, {**replaced, token_row.id: False})
        user_id = user.id
    _revoke(runtime, to_revoke)
    return user_id


def _takes_this_grant(connection: XeroConnection, user_id: int, chosen: set[int]) -> bool:
    if connection.token_set_id is None or connection.status in (
        ConnectionStatus.NEEDS_RECONNECT,
        ConnectionStatus.DISCONNECTED,
    ):
        return True
    return connection.owner_user_id == user_id or connection.id in chosen


def _sync_as(
    connection: XeroConnection, grant: TenantGrant, user_id: int, token_set_id: int
) -> None:
    connection.token_set_id = token_set_id
    connection.owner_user_id = user_id
    connection.xero_connection_uid = grant.connection_id
    if connection.status in (ConnectionStatus.NEEDS_RECONNECT, ConnectionStatus.DISCONNECTED):
        connection.status = ConnectionStatus.CONNECTED


def _drop_unused(session: Session, runtime: Runtime, candidates: dict[int, bool]) -> list[str]:
    """Delete the candidate token sets no organisation syncs with; the refresh tokens of those
    marked for revocation.

    Xero's revocation removes every connection of that user to the app, so a grant is revoked
    only when it belonged to someone else; this user's own older grant is just deleted.
    """
    refresh_tokens: list[str] = []
    for token_set_id, revoke in candidates.items():
        in_use = session.scalars(
            select(XeroConnection.id).where(XeroConnection.token_set_id == token_set_id)
        ).first()
        row = session.get(EncryptedTokenSet, token_set_id)
        if in_use is not None or row is None:
            continue
        if revoke:
            refresh = read_token_set(runtime.cipher, row).get("refresh_token")
            if isinstance(refresh, str) and refresh:
                refresh_tokens.append(refresh)
        session.delete(row)
    return refresh_tokens


def _revoke(runtime: Runtime, refresh_tokens: Sequence[str]) -> None:
    """Revoke grants at Xero; one that is already gone is fine."""
    for refresh in refresh_tokens:
        with contextlib.suppress(XeroError, httpx.HTTPError):
            runtime.xero_auth().revoke(refresh)


def forget_token_set(runtime: Runtime, token_set_id: int) -> None:
    """After a disconnect: delete the grant and revoke it when no organisation uses it."""
    with transaction(runtime.sessions) as session:
        to_revoke = _drop_unused(session, runtime, {token_set_id: True})
    _revoke(runtime, to_revoke)


def syncing_as(session: Session, connection_id: int) -> str:
    """Whose Xero sign-in the organisation syncs with (name, else email)."""
    connection = session.get_one(XeroConnection, connection_id)
    owner = session.get(User, connection.owner_user_id)
    if owner is None or connection.token_set_id is None:
        return ""
    return owner.name or owner.email or "a signed-in user"


def _upsert_tenant(session: Session, grant: TenantGrant, user_id: int) -> XeroConnection:
    connection = session.scalars(
        select(XeroConnection).where(XeroConnection.tenant_id == grant.tenant_id)
    ).first()
    if connection is None:
        connection = XeroConnection(
            tenant_id=grant.tenant_id,
            owner_user_id=user_id,
            xero_connection_uid=grant.connection_id,
        )
        session.add(connection)
    connection.tenant_name = grant.tenant_name or connection.tenant_name
    session.flush()
    return connection


def organisations_for(session: Session, user_id: int) -> list[Organisation]:
    """The organisations Xero said this user can access, by name."""
    rows = session.execute(
        select(XeroConnection, AmazonConnection.region)
        .join(UserTenant, UserTenant.xero_connection_id == XeroConnection.id)
        .outerjoin(AmazonConnection, AmazonConnection.xero_connection_id == XeroConnection.id)
        .where(UserTenant.user_id == user_id)
        .order_by(XeroConnection.tenant_name)
    ).all()
    return [
        Organisation(org.id, org.tenant_id, org.tenant_name, org.setup_step, region, org.status)
        for org, region in rows
    ]


def connection_for(session: Session, user_id: int, connection_id: int) -> XeroConnection:
    """The organisation if this user may see it; :class:`NotFound` otherwise, either way."""
    connection = session.scalars(
        select(XeroConnection)
        .join(UserTenant, UserTenant.xero_connection_id == XeroConnection.id)
        .where(UserTenant.user_id == user_id, XeroConnection.id == connection_id)
    ).first()
    if connection is None:
        raise NotFound(connection_id)
    return connection


def pair_amazon(
    runtime: Runtime,
    connection_id: int,
    region: str,
    business_id: str,
    business_name: str,
    tokens: AmazonTokens,
    *,
    keys: Iterable[str] = (),
    viewer: int | None = None,
) -> None:
    """Store an Amazon Business grant for an organisation; one Amazon account, one organisation.

    The account is recognised by ``business_id`` or by any one of its ``keys`` (legal
    entities, buyer and payer ids) already held by another pairing.
    """
    account_keys = sorted(set(keys))
    with transaction(runtime.sessions) as session:
        other = _paired_elsewhere(session, connection_id, business_id, account_keys)
        if other is not None:
            raise AlreadyPaired(_taken_message(session, other, viewer))
        amazon = session.scalars(
            select(AmazonConnection).where(AmazonConnection.xero_connection_id == connection_id)
        ).first()
        token_row = save_token_set(
            session,
            runtime.cipher,
            "amazon",
            tokens.as_dict(),
            tokens.expires_at,
            session.get(EncryptedTokenSet, amazon.token_set_id)
            if amazon is not None and amazon.token_set_id
            else None,
            issued_at=runtime.now(),
        )
        if amazon is None:
            amazon = AmazonConnection(xero_connection_id=connection_id, business_id=business_id)
            session.add(amazon)
        amazon.region = region
        amazon.marketplace_id = runtime.amazon_endpoints(region).marketplace_id
        amazon.business_id = business_id
        amazon.business_name = business_name
        amazon.token_set_id = token_row.id
        amazon.status = ConnectionStatus.CONNECTED
        session.flush()
        _replace_keys(session, amazon.id, account_keys)
        organisation = session.get_one(XeroConnection, connection_id)
        if organisation.setup_step == SetupStep.AMAZON:
            organisation.setup_step = SetupStep.IMPORT


def refuse_if_paired_elsewhere(
    sessions: sessionmaker[Session],
    connection_id: int,
    business_id: str,
    keys: Iterable[str],
    viewer: int | None = None,
) -> None:
    """:class:`AlreadyPaired` when another organisation holds this account (read only; the
    pairing itself checks again in its own transaction)."""
    with sessions() as session:
        other = _paired_elsewhere(session, connection_id, business_id, sorted(set(keys)))
        if other is not None:
            raise AlreadyPaired(_taken_message(session, other, viewer))


def _paired_elsewhere(
    session: Session, connection_id: int, business_id: str, keys: Sequence[str]
) -> AmazonConnection | None:
    """Another organisation's pairing with this account, by its id or any of its keys."""
    by_id = session.scalars(
        select(AmazonConnection).where(
            AmazonConnection.business_id == business_id,
            AmazonConnection.xero_connection_id != connection_id,
        )
    ).first()
    if by_id is not None or not keys:
        return by_id
    return session.scalars(
        select(AmazonConnection)
        .join(AmazonAccountKey, AmazonAccountKey.amazon_connection_id == AmazonConnection.id)
        .where(
            AmazonAccountKey.key.in_(keys),
            AmazonConnection.xero_connection_id != connection_id,
        )
    ).first()


def _taken_message(session: Session, other: AmazonConnection, viewer: int | None) -> str:
    """The refusal; it names the other organisation only to someone who may see it."""
    visible = viewer is not None and (
        session.get(UserTenant, (viewer, other.xero_connection_id)) is not None
    )
    name = session.get_one(XeroConnection, other.xero_connection_id).tenant_name
    where = f'the Xero organisation "{name}"' if visible else "another Xero organisation"
    remedy = "Disconnect it there first" if visible else "Ask whoever connected it to disconnect it"
    return (
        f"This Amazon Business account is already connected to {where}. {remedy}, or sign in "
        "to Amazon with another account."
    )


def _replace_keys(session: Session, amazon_connection_id: int, keys: Sequence[str]) -> None:
    session.execute(
        delete(AmazonAccountKey).where(
            AmazonAccountKey.amazon_connection_id == amazon_connection_id
        )
    )
    for key in keys:
        session.add(AmazonAccountKey(key=key, amazon_connection_id=amazon_connection_id))
