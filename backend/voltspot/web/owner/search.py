"""The top bar's search: one hit, or one exact hit, opens at once; several are
listed."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from voltspot.runtime import runtime
from voltspot.services.owner.search import SHORTEST, SearchHit, search
from voltspot.web.owner import bp, viewer


def hit_url(hit: SearchHit) -> str:
    if hit.session_id is not None:
        return url_for("owner.session_detail", session_id=hit.session_id)
    if hit.card_id is not None:
        return url_for("owner.card", card_id=hit.card_id)
    return url_for("owner.station", charge_point_id=hit.station)


@bp.get("/search")
def search_page():
    query = request.args.get("q", "")[:100]
    hits = search(runtime().db, viewer(), query)
    exact = [hit for hit in hits if hit.exact]
    if len(hits) == 1 or len(exact) == 1:
        return redirect(hit_url((exact or hits)[0]), 303)
    return render_template("owner/search.html", query=query.strip(), hits=hits,
                           hit_url=hit_url, shortest=SHORTEST)
