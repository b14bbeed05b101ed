"""Languages: Simplified Chinese (`zh`) and English (`en`), from Babel catalogs.

The `.po` files in translations/ are the source; they are compiled in memory when
the app starts, so no `.mo` file is built or committed. After changing a visible
string, `make translations` extracts the strings and updates both catalogs; then
translate the new entries. A unit test fails while any string of the templates or
the code has no translation in either catalog."""

import gettext
from io import BytesIO
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TRANSLATIONS_DIR = Path(__file__).parent.parent / "translations"
LOCALES = ("zh", "en")


def load_translations(locale: str) -> gettext.GNUTranslations:
    with (TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source, locale=locale)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def choose_locale(
    asked: str | None, remembered: str | None, accept_language: str, default: str
) -> str:
    """`?lang=` first, then the switch's cookie, then the browser's Accept-Language."""
    for choice in (asked, remembered):
        if choice in LOCALES:
            return choice
    preferred = [
        part.split(";")[0].strip().replace("-", "_")
        for part in accept_language.split(",")
        if part.strip()
    ]
    try:
        negotiated = Locale.negotiate(preferred, list(LOCALES), sep="_")
    except (UnknownLocaleError, ValueError):
        negotiated = None
    return str(negotiated.language) if negotiated else default
