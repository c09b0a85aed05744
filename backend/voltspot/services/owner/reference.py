"""Reference data the owner's forms choose from: countries, currencies, timezones and
plug types. Pure lookups; no database."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

from voltspot.domain.statuses import ConnectorType

CONNECTOR_TYPES = tuple(str(kind) for kind in ConnectorType)

# ISO 3166-1 alpha-2, as in the tz database's iso3166.tab.
_COUNTRY_CODES = """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
VN VU WF WS YE YT ZA ZM ZW"""
COUNTRIES = frozenset(_COUNTRY_CODES.split())

# ISO 4217 currencies whose minor unit the pricing code writes correctly: every
# two-decimal currency, plus ISK, JPY and KRW (no decimals). Three-decimal currencies
# (BHD, KWD, …) and other zero-decimal ones (CLP, VND, …) are left out until pricing
# knows their minor units.
_CURRENCY_CODES = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN
BZD CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS
GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR ISK JMD JPY KES KGS KHR KPW KRW KYD KZT
LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO
NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS
SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VES WST XCD YER
ZAR ZMW ZWG"""
CURRENCIES = frozenset(_CURRENCY_CODES.split())

_REGIONS = ("Africa/", "America/", "Antarctica/", "Arctic/", "Asia/", "Atlantic/",
            "Australia/", "Europe/", "Indian/", "Pacific/")


@lru_cache(maxsize=1)
def timezones() -> tuple[str, ...]:
    """The IANA timezones a site may have, sorted: every Region/City this system knows,
    and UTC (not the legacy aliases such as ``US/Eastern`` or ``localtime``)."""
    return tuple(sorted(zone for zone in zoneinfo.available_timezones()
                        if zone.startswith(_REGIONS) or zone == "UTC"))
