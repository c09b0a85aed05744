"""Passkeys (WebAuthn, with the ``webauthn`` package) for drivers' accounts: a signed-in
driver registers one, and later signs in with it alone (a discoverable credential: no
email asked). The relying party is Voltspot's public address (``VOLTSPOT_PUBLIC_URL``):
its host name is the RP id and the address the one origin accepted.

The challenge of each ceremony is made here and kept by the caller (in the browser's
signed session) until the answer comes back; each is used once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from voltspot.db import Database
from voltspot.models import DriverAccount, DriverPasskey, utcnow
from voltspot.services.errors import Conflict, InvalidInput
from voltspot.services.messages import N_

RP_NAME = "Voltspot"


@dataclass(frozen=True)
class RelyingParty:
    """Who the passkeys are for: the RP id (a host name) and the origin accepted."""

    id: str
    origin: str

    @classmethod
    def for_public_url(cls, public_url: str) -> RelyingParty:
        parts = urlsplit(public_url)
        return cls(id=parts.hostname or "", origin=f"{parts.scheme}://{parts.netloc}")


@dataclass(frozen=True)
class Ceremony:
    """Options for the browser (JSON) and the challenge to keep until its answer."""

    options_json: str
    challenge: bytes


@dataclass(frozen=True)
class Passkey:
    """A registered passkey as the account page lists it."""

    id: int
    created_at: datetime
    last_used_at: datetime | None


def registration(db: Database, account_id: int, rp: RelyingParty) -> Ceremony:
    """Options to register a new passkey for the account (its existing ones excluded)."""
    with db.session() as session:
        account = session.get(DriverAccount, account_id)
        existing = session.scalars(select(DriverPasskey.credential_id).where(
            DriverPasskey.account_id == account_id)).all()
        email = account.email
    options = generate_registration_options(
        rp_id=rp.id, rp_name=RP_NAME, user_name=email, user_display_name=email,
        user_id=f"voltspot-driver-{account_id}".encode(),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(c))
                             for c in existing])
    return Ceremony(options_to_json(options), options.challenge)


def register(db: Database, account_id: int, credential: str, challenge: bytes,
             rp: RelyingParty) -> Passkey:
    """Keep the passkey the browser made (``credential``, its JSON) for the account, once
    its answer to ``challenge`` checks out. Raises :class:`InvalidInput` when it does not,
    :class:`Conflict` when the passkey is registered already."""
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp.id,
            expected_origin=rp.origin)
    except (WebAuthnException, ValueError, KeyError) as error:
        raise InvalidInput(N_("This passkey could not be checked. Try again.")) from error
    credential_id = bytes_to_base64url(verified.credential_id)
    with db.session() as session:
        if session.scalar(select(DriverPasskey.id).where(
                DriverPasskey.credential_id == credential_id)) is not None:
            raise Conflict(N_("This passkey is registered already."))
        passkey = DriverPasskey(account_id=account_id, credential_id=credential_id,
                                public_key=verified.credential_public_key,
                                sign_count=verified.sign_count)
        session.add(passkey)
        session.flush()
        return Passkey(passkey.id, passkey.created_at, None)


def authentication(rp: RelyingParty) -> Ceremony:
    """Options to sign in with any passkey of this site (the browser offers its own)."""
    options = generate_authentication_options(
        rp_id=rp.id, user_verification=UserVerificationRequirement.PREFERRED)
    return Ceremony(options_to_json(options), options.challenge)


def sign_in(db: Database, credential: str, challenge: bytes, rp: RelyingParty) -> int:
    """The account whose passkey answered ``challenge`` (``credential``: the browser's
    JSON); its use is recorded. Raises :class:`Conflict` when no passkey of ours answered
    or the answer does not check out."""
    refused = Conflict(N_("This passkey did not sign you in. Use the email link instead, "
                          "then add the passkey again from your account."))
    try:
        credential_id = str(json.loads(credential)["id"])
    except (ValueError, KeyError, TypeError):
        raise refused from None
    with db.session() as session:
        passkey = session.scalar(select(DriverPasskey).where(
            DriverPasskey.credential_id == credential_id))
        if passkey is None:
            raise refused
        try:
            verified = verify_authentication_response(
                credential=credential, expected_challenge=challenge, expected_rp_id=rp.id,
                expected_origin=rp.origin, credential_public_key=passkey.public_key,
                credential_current_sign_count=passkey.sign_count)
        except (WebAuthnException, ValueError, KeyError) as error:
            raise refused from error
        passkey.sign_count = verified.new_sign_count
        passkey.last_used_at = utcnow()
        return passkey.account_id


def passkeys(db: Database, account_id: int) -> list[Passkey]:
    """The account's passkeys, oldest first."""
    with db.session() as session:
        return [Passkey(p.id, p.created_at, p.last_used_at) for p in session.scalars(
            select(DriverPasskey).where(DriverPasskey.account_id == account_id)
            .order_by(DriverPasskey.id))]


def remove(db: Database, account_id: int, passkey_id: int) -> None:
    """Forget one of the account's passkeys (nothing when it is not the account's)."""
    with db.session() as session:
        session.execute(delete(DriverPasskey).where(DriverPasskey.id == passkey_id,
                                                    DriverPasskey.account_id == account_id))
