"""Signing in with Xero, pairing Amazon Business, and who may see which organisation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from abxero.amazon import TokenSet as AmazonTokens
from abxero.runtime import Runtime, xero_tokens_as_dict
from abxero.store.db import transaction
from abxero.store.models import (
    AmazonAccountKey,
    AmazonConnection,
    TokenSet,
    User,
    UserTenant,
    XeroConnection,
)
from abxero.store.tokens import save_token_set
from abxero.xero import IdentityClaims
from abxero.xero import TokenSet as XeroTokens
from abxero.xero import XeroConnection as TenantGrant


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


def record_sign_in(
    runtime: Runtime,
    claims: IdentityClaims,
    tokens: XeroTokens,
    grants: Sequence[TenantGrant],
) -> int:
    """Store the user, the grant (encrypted) and the organisations Xero listed; the user id."""
    with transaction(runtime.sessions) as session:
        user = session.scalars(select(User).where(User.xero_user_id == claims.xero_userid)).first()
        if user is None:
            user = User(xero_user_id=claims.xero_userid)
            session.add(user)
        user.email = claims.email or ""
        user.name = " ".join(part for part in (claims.given_name, claims.family_name) if part)
        session.flush()
        token_row = save_token_set(
            session, runtime.cipher, "xero", xero_tokens_as_dict(tokens), tokens.expires_at
        )
        session.execute(delete(UserTenant).where(UserTenant.user_id == user.id))
        for grant in grants:
            if grant.tenant_type.upper() != "ORGANISATION":
                continue
            connection = _upsert_tenant(session, grant, user.id, token_row.id)
            session.add(UserTenant(user_id=user.id, xero_connection_id=connection.id))
        return user.id


def _upsert_tenant(
    session: Session, grant: TenantGrant, user_id: int, token_set_id: int
) -> XeroConnection:
    connection = session.scalars(
        select(XeroConnection).where(XeroConnection.tenant_id == grant.tenant_id)
    ).first()
    if connection is None:
        connection = XeroConnection(tenant_id=grant.tenant_id, owner_user_id=user_id)
        session.add(connection)
    connection.tenant_name = grant.tenant_name or connection.tenant_name
    connection.xero_connection_uid = grant.connection_id
    connection.token_set_id = token_set_id
    if connection.status in ("needs_reconnect", "disconnected"):
        connection.status = "connected"
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
        Organisation(org.id, org.tenant_id, org.tenant_name, org.setup_step, region)
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
            session.get(TokenSet, amazon.token_set_id)
            if amazon is not None and amazon.token_set_id
            else None,
        )
        if amazon is None:
            amazon = AmazonConnection(xero_connection_id=connection_id, business_id=business_id)
            session.add(amazon)
        amazon.region = region
        amazon.marketplace_id = runtime.amazon_endpoints(region).marketplace_id
        amazon.business_id = business_id
        amazon.business_name = business_name
        amazon.token_set_id = token_row.id
        amazon.status = "connected"
        session.flush()
        _replace_keys(session, amazon.id, account_keys)
        organisation = session.get_one(XeroConnection, connection_id)
        if organisation.setup_step == "amazon":
            organisation.setup_step = "import"


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
