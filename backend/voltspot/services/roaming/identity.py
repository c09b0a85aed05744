"""Who Voltspot is to roaming partners, from the settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from voltspot.config import Settings

VERSION = "2.2.1"


@dataclass(frozen=True)
class Identity:
    """Our party (country code and party id), our name, the base of our OCPI URLs
    (``…/ocpi``), and the secret the partners' tokens are sealed with
    (:mod:`voltspot.services.roaming.sealing`)."""

    country_code: str
    party_id: str
    name: str
    base_url: str
    secret: str = field(repr=False, default="")

    @classmethod
    def from_settings(cls, settings: Settings) -> Identity:
        return cls(settings.ocpi_country_code.upper(), settings.ocpi_party_id.upper(),
                   settings.ocpi_business_name, settings.public_url.rstrip("/") + "/ocpi",
                   settings.secret_key)

    @property
    def versions_url(self) -> str:
        return f"{self.base_url}/versions"

    @property
    def details_url(self) -> str:
        return f"{self.base_url}/{VERSION}"

    def module_url(self, module: str) -> str:
        """A module's URL as our version details list it: with a trailing slash, as in
        the spec's examples (peers append ``{country_code}/{party_id}/{id}`` to it)."""
        return f"{self.details_url}/{module}/"

    def credentials_role(self) -> dict:
        """Our CredentialsRole (we are a CPO)."""
        return {"role": "CPO", "business_details": {"name": self.name},
                "party_id": self.party_id, "country_code": self.country_code}
