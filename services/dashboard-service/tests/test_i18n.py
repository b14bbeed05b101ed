"""Both languages are complete: every string the templates and the code mark for
translation has a translation in both catalogs, and the language is chosen as the
switch, the cookie and then the browser ask."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from dashboard_service.api.i18n import LOCALES, TRANSLATIONS_DIR, choose_locale, load_translations

pytestmark = pytest.mark.unit

SOURCE = Path(__file__).resolve().parents[1] / "src"


def marked_strings() -> set[str]:
    found = extract_from_dir(
        SOURCE,
        method_map=[("**.html", "jinja2.ext.babel_extract"), ("**.py", "python")],
        options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
    )
    return {message if isinstance(message, str) else message[0] for _, _, message, _, _ in found}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_marked_string_is_translated(locale: str) -> None:
    with (TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source, locale=locale)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(marked_strings() - translated)
    assert not missing, f"{locale} lacks translations for {missing}"


def test_the_catalogs_compile_in_memory_and_translate() -> None:
    assert load_translations("zh").gettext("My goals") == "我的目标"
    assert load_translations("en").gettext("My goals") == "My goals"


@pytest.mark.parametrize(
    ("asked", "remembered", "accept", "chosen"),
    [
        ("en", "zh", "zh-CN", "en"),
        (None, "en", "zh-CN,zh;q=0.9", "en"),
        (None, None, "zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        (None, None, "en-US,en;q=0.9", "en"),
        (None, None, "fr-FR", "zh"),
        ("klingon", None, "en", "en"),
        (None, None, "", "zh"),
    ],
)
def test_the_language_is_the_switch_then_the_cookie_then_the_browser(
    asked: str | None, remembered: str | None, accept: str, chosen: str
) -> None:
    assert choose_locale(asked, remembered, accept, default="zh") == chosen
