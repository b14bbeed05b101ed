"""Jinja2 environments, one per language, with the formatting filters and the
live-key helper every template uses.

Filters (Babel, in the page's language):
- `money(amount, currency)`: a decimal string or Decimal in, the currency's symbol
  and minor units out (¥1,234.50; ¥1,234 for JPY);
- `percent(ratio)`: one decimal (0.8234 -> 82.3%);
- `date`, `datetime`: in the organisation's time zone (settings.timezone);
- `number`: a decimal with grouping.
Globals: `live_attrs(kind, id, url)` (see `LiveKeys`), `lang` and `languages`."""

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache, partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import (
    format_currency,
    format_decimal,
    format_percent,
)
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup, escape

from dashboard_service.api.i18n import LOCALES, load_translations
from dashboard_service.domain.live import event_name, live_key

TEMPLATES_DIR = Path(__file__).parent.parent / "templates"


class LiveKeys:
    """The live keys one page rendered; the page's token names exactly these."""

    def __init__(self) -> None:
        self.keys: set[str] = set()


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


# A grid formats thousands of figures, and Babel spends half of each call parsing the
# locale: it is parsed once per language instead.
PERCENT = "#,##0.0%"


@cache
def _locale(locale: str) -> Locale:
    return Locale.parse(locale)


def money(value: Any, currency: str, *, locale: str) -> str:
    amount = _decimal(value)
    if amount is None:
        return "—"
    return format_currency(amount, currency, locale=_locale(locale))


def percent(value: Any, *, locale: str) -> str:
    ratio = _decimal(value)
    if ratio is None:
        return "—"
    return format_percent(ratio, format=PERCENT, locale=_locale(locale))


def number(value: Any, *, locale: str) -> str:
    amount = _decimal(value)
    if amount is None:
        return "—"
    return format_decimal(amount, locale=_locale(locale))


def format_day(value: date | str | None, *, locale: str, zone: ZoneInfo) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.astimezone(zone).date()
    return format_date(value, format="medium", locale=_locale(locale))


def format_instant(value: datetime | str | None, *, locale: str, zone: ZoneInfo) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    local = value.astimezone(zone)
    day = format_date(local, "medium", locale=locale)
    return f"{day} {format_time(local, 'short', locale=locale)}"


@pass_context
def live_attrs(
    context: Context, kind: str, entity_id: str, url: str, swap: str = "outerHTML"
) -> Markup:
    """htmx attributes that re-fetch `url` (the element's own fragment, swapped in
    place) when the live channel says `kind:entity_id` changed, and the key recorded
    for the page's token. `swap="innerHTML"` keeps the element itself on the page
    (with `hx-select` picking the fragment's children): what htmx queues on an element,
    a signal that came while a request was in flight, is dropped once it is replaced."""
    key = live_key(kind, entity_id)
    live: LiveKeys | None = context.get("live")
    if live is not None:
        live.keys.add(key)
    return Markup(
        f'hx-get="{escape(url)}" hx-trigger="sse:{escape(event_name(key))}" '
        f'hx-swap="{escape(swap)}"'
    )


def build_environments(
    timezone: str, globals_: dict[str, Callable[..., Any]]
) -> dict[str, Environment]:
    zone = ZoneInfo(timezone)
    environments = {}
    for locale in LOCALES:
        environment = Environment(
            loader=FileSystemLoader(TEMPLATES_DIR),
            # The templates ship with the code: no file is looked at again once compiled
            # (checking every template's time stamp was a tenth of a grid's render).
            auto_reload=False,
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        environment.install_gettext_translations(load_translations(locale), newstyle=True)  # type: ignore[attr-defined]
        environment.filters.update(
            money=partial(money, locale=locale),
            percent=partial(percent, locale=locale),
            number=partial(number, locale=locale),
            date=partial(format_day, locale=locale, zone=zone),
            datetime=partial(format_instant, locale=locale, zone=zone),
        )
        environment.globals.update(globals_, live_attrs=live_attrs, lang=locale, languages=LOCALES)
        environments[locale] = environment
    return environments
