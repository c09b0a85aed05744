"""An eMSP built on the independent ``extrawest-ocpi`` package (``py_ocpi``, FastAPI and
pydantic 1), for test_extrawest_peer.py. It runs in a virtual environment of its own
(its pins clash with Voltspot's), so it is never imported by the test run itself:

* ``uvicorn extrawest_emsp:app`` serves the eMSP role (credentials, locations, tariffs,
  sessions and CDRs receivers, command results, token push) with an in-memory store,
  plus ``/debug/…`` routes for the test to seed tokens and read what arrived;
* ``python extrawest_emsp.py pull VERSIONS_URL TOKEN`` pulls the CPO's Locations and
  Tariffs and checks each against the package's 2.2.1 schemas, printing a JSON summary.

Every request body the package receives is parsed by its pydantic schemas, so an object
that breaks OCPI 2.2.1 is refused there.
"""

# No ``from __future__ import annotations``: FastAPI reads the views' annotations.
import base64
import json
import os
import secrets
import sys
from typing import Any

STORE: dict[str, Any] = {"tokens_c": [], "objects": {}, "received": [], "cpo": None,
                         "tokens": {}}


def _build_app():
    from fastapi import Request
    from py_ocpi import get_application
    from py_ocpi.core.authentication.authenticator import Authenticator
    from py_ocpi.core.crud import Crud
    from py_ocpi.core.enums import ModuleID, RoleEnum
    from py_ocpi.modules.versions.enums import VersionNumber

    base = f"http://{os.environ['OCPI_HOST']}"
    token_a = os.environ["PEER_TOKEN_A"]
    ours = {"url": f"{base}/ocpi/versions",
            "roles": [{"role": "EMSP", "business_details": {"name": "Extrawest eMSP"},
                       "party_id": os.environ["PARTY_ID"],
                       "country_code": os.environ["COUNTRY_CODE"]}]}

    def _key(module: Any, ident: Any) -> str:
        return f"{getattr(module, 'value', module)}:{ident}"

    class PeerAuthenticator(Authenticator):
        @classmethod
        async def get_valid_token_c(cls) -> list[str]:
            return list(STORE["tokens_c"])

        @classmethod
        async def get_valid_token_a(cls) -> list[str]:
            return [token_a]

    class PeerCrud(Crud):
        @classmethod
        async def get(cls, module, role, id, *args, **kwargs):
            if module == ModuleID.credentials_and_registration:
                return {"token": id, **ours}
            if module == ModuleID.tokens:
                return STORE["tokens"].get(id)
            return STORE["objects"].get(_key(module, id))

        @classmethod
        async def list(cls, module, role, filters, *args, **kwargs):
            if module == ModuleID.tokens:
                tokens = list(STORE["tokens"].values())
                return tokens, len(tokens), True
            return [], 0, True

        @classmethod
        async def create(cls, module, role, data, *args, **kwargs):
            if module == ModuleID.credentials_and_registration:
                STORE["cpo"] = data
                token_c = secrets.token_urlsafe(16)
                STORE["tokens_c"].append(token_c)
                return {"token": token_c, **ours}
            ident = data.get("id") or kwargs.get("id")
            STORE["objects"][_key(module, ident)] = data
            STORE["received"].append({"module": getattr(module, "value", str(module)),
                                      "action": "create", "id": ident, "data": data})
            return data

        @classmethod
        async def update(cls, module, role, data, id, *args, **kwargs):
            STORE["objects"][_key(module, id)] = data
            STORE["received"].append({"module": getattr(module, "value", str(module)),
                                      "action": "update", "id": id, "data": data})
            return data

        @classmethod
        async def delete(cls, module, role, id, *args, **kwargs):
            STORE["objects"].pop(_key(module, id), None)

        @classmethod
        async def do(cls, module, role, action, *args, data=None, **kwargs):
            return None

    app = get_application(
        version_numbers=[VersionNumber.v_2_2_1], roles=[RoleEnum.emsp], crud=PeerCrud,
        modules=[ModuleID.credentials_and_registration, ModuleID.locations,
                 ModuleID.tariffs, ModuleID.sessions, ModuleID.cdrs, ModuleID.commands,
                 ModuleID.tokens],
        authenticator=PeerAuthenticator, http_push=True)

    @app.get("/debug/store")
    async def debug_store():
        return json.loads(json.dumps(STORE, default=str))

    @app.post("/debug/tokens")
    async def debug_token(request: Request):
        token = await request.json()
        STORE["tokens"][token["uid"]] = token
        return {"ok": True}

    return app


def pull(versions_url: str, token: str) -> dict[str, Any]:
    """GET the CPO's Locations and Tariffs (every page) and parse each with the
    package's 2.2.1 schemas."""
    import httpx
    from py_ocpi.modules.locations.v_2_2_1.schemas import Location
    from py_ocpi.modules.tariffs.v_2_2_1.schemas import Tariff
    from pydantic import ValidationError

    headers = {"Authorization": "Token " + base64.b64encode(token.encode()).decode()}
    summary: dict[str, Any] = {"locations": 0, "tariffs": 0, "pages": 0, "errors": []}
    with httpx.Client(headers=headers, timeout=20, follow_redirects=True) as client:
        versions = client.get(versions_url).json()["data"]
        details = client.get(next(v["url"] for v in versions if v["version"] == "2.2.1"))
        endpoints = {e["identifier"]: e["url"] for e in details.json()["data"]["endpoints"]
                     if e["role"] == "SENDER"}
        for module, schema in (("locations", Location), ("tariffs", Tariff)):
            url: str | None = endpoints[module] + "?limit=2"
            while url:
                response = client.get(url)
                summary["pages"] += 1
                for item in response.json()["data"]:
                    try:
                        schema(**item)
                        summary[module] += 1
                    except ValidationError as error:
                        summary["errors"].append(f"{module} {item.get('id')}: {error}")
                link = response.headers.get("Link")
                url = link[link.index("<") + 1:link.index(">")] if link else None
    return summary


if __name__ == "__main__" and sys.argv[1:2] == ["pull"]:
    print(json.dumps(pull(sys.argv[2], sys.argv[3])))
elif os.environ.get("PEER_TOKEN_A"):
    app = _build_app()
