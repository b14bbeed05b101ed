"""Foreign currency converts at the rate of the credit date (DOMAIN.md §4); a
missing rate parks the record instead of guessing."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, Field

from servicekit.money import round_half_up

# ISO 4217's current codes (list one: currencies, funds and precious metals; not
# XTS, for testing, nor XXX, no currency), ANG until its withdrawal in 2026. A
# code outside it would wait for a rate that never comes, so it is refused.
_LIST_ONE = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL
    BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF
    DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG
    HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK
    LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN
    NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
    SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY
    TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XBA
    XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XUA YER ZAR ZMW ZWG
"""
ISO_4217 = frozenset(_LIST_ONE.split())


def _iso_4217(code: str) -> str:
    if code not in ISO_4217:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


CurrencyCode = Annotated[
    str, Field(pattern="^[A-Z]{3}$", description="ISO 4217"), AfterValidator(_iso_4217)
]


@dataclass(frozen=True)
class MissingRate(Exception):
    currency: str
    on: date
    base: str

    def __str__(self) -> str:
        return f"no {self.currency}→{self.base} rate for {self.on.isoformat()}"


def to_base(
    amount: Decimal, currency: str, on: date, base: str, rates: dict[tuple[str, date], Decimal]
) -> Decimal:
    """`amount` in the base currency, to the cent; `rates` maps (currency, day) to
    how many base units one unit of the currency is worth that day."""
    if currency == base:
        return amount
    rate = rates.get((currency, on))
    if rate is None:
        raise MissingRate(currency, on, base)
    return round_half_up(amount * rate)
