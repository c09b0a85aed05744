"""Site owners: the people who sign in to the owner page."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from voltspot.models.base import Base, utcnow


class Owner(Base):
    """A site owner. Signs in with a local password or through an OpenID Connect provider
    (``oidc_issuer`` + ``oidc_subject``); an admin sees every site."""

    __tablename__ = "owners"
    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str | None] = mapped_column(String(256))
    is_admin: Mapped[bool] = mapped_column(default=False)
    oidc_issuer: Mapped[str | None] = mapped_column(String(300))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # False for an identity a provider created that an admin has not let in yet.
    approved: Mapped[bool] = mapped_column(default=True)
    # When an admin refused to let in the identity a provider created (it stays refused).
    refused_at: Mapped[datetime | None]


class OwnerSignIn(Base):
    """One signed-in browser of an owner: the cookie carries a random token, this row its
    digest. Signing out deletes the row, so a copied cookie is refused after it."""

    __tablename__ = "owner_sign_ins"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"),
                                          index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
