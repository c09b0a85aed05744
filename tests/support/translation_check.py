"""Whether a page shows English words where its language has its own: the text a person
sees or hears, and the English of each catalog message that the translation words
differently (the way tests/web/test_languages.py checks the driver pages)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from babel.messages.pofile import read_po

from voltspot.web.i18n import TRANSLATIONS, read_catalog


class _VisibleText(HTMLParser):
    """Text outside scripts and styles, and the labels, titles and placeholders."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("aria-label", "title", "placeholder", "alt", "hx-confirm",
                        "data-failed") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def owner_messages(language: str) -> set[str]:
    """The owner page's own messages (``owner.po``): its words ("Site", "Station") are
    no driver's words, and other tests' site names ("Site 1a2b") show on driver pages.
    A message with a context ("Charging" as an activity) is the owner's own only in that
    context: the driver's "Charging" stays a driver's word."""
    with (TRANSLATIONS / language / "LC_MESSAGES" / "owner.po").open("rb") as source:
        return {message.id for message in read_po(source) if message.id
                and not message.context}


# English words that no German text uses (German nouns are capitalised, so "phase" and
# "station" in lower case are English): a German page showing one has a sentence nobody
# marked for translation, which the catalog comparison of english_left cannot see.
_ENGLISH_ONLY_WORDS = """
    the The and is are of with without must be been cannot can't could should would will
    this This that these those their Their there your you which when where while what
    from by for to or at on its it's it after before between than then only every
    each any some more most least write Write takes Takes raised Raised shortly scan Scan
    help Help pick Pick choose Choose give Give keep Keep enter Enter sheet sheets phase
    phases margin limits limit answer answered problem number numbers amount price prices
    plug plugs station stations site sites card cards session sessions charging charge
    charger driver drivers update updates wait waits retried automatically degrees
    characters decimals negative whole minutes seconds days day month week partner
    """
_ENGLISH_ONLY = frozenset(_ENGLISH_ONLY_WORDS.split())


def english_words(text: str) -> list[str]:
    """The English-only words (``_ENGLISH_ONLY``) in ``text``, a German page's visible
    text: whole words, case as written. Letters inside an id ("CP-be3f1a", a pending
    station's hex) are no words."""
    return sorted({word for word in re.findall(r"(?<![\w-])[A-Za-z']+(?![\w-])", text)
                   if word in _ENGLISH_ONLY})


def english_left(html: str, language: str) -> list[str]:
    """The English words of catalog messages (the owner page's own left out) that the
    driver's ``html`` still shows in ``language``."""
    text = visible_text(html)
    left = set()
    owner_only = owner_messages(language)
    for message in read_catalog(language):
        if not message.id or message.id in owner_only:
            continue
        for piece in re.split(r"%\(\w+\)\w|%%", message.id):
            piece = piece.strip(" .,:;()×·?…")
            if len(piece) < 4 or piece in message.string:
                continue
            if re.search(rf"(?<![\w-]){re.escape(piece)}(?![\w-])", text):
                left.add(piece)
    return sorted(left)
