"""Who the United States can actually send home: a removability index by nationality.

A denied US asylum case ends in removal only where the country of nationality takes its
citizens back. In fiscal 2022-2023 ICE removed about 1 in 15 of the Central Americans CBP
encountered at the border, but about 1 in 450 Venezuelans and 1 in 870 Cubans (direct
removal flights to Venezuela resumed only in October 2023; flights to Cuba stopped from
January 2021 to April 2023, a DHS spokesperson told Reuters). The model's asylum removals are
scaled by this index, so that faster asylum processing removes the people the US can remove
and leaves the others where they are.

Index of a nationality = its removals per encounter over FY2022-2023, relative to that of
Guatemalans, Hondurans and Salvadorans together (the nationalities the US removes most
readily), at most 1. The reference is understated (many Central Americans were expelled under
Title 42, which is not a removal), so the index errs towards removability for the others.

Sources:

* Removals: ICE, "Annual Report, Fiscal Year 2024", appendix, removals by country of
  citizenship FY2019-FY2024 (https://www.ice.gov/doclib/eoy/iceAnnualReportFY2024.pdf),
  read from a text extraction; FY2022 and FY2023 only (counts dated up to 2023).
* Encounters: US CBP Nationwide Encounters, southwest border, by citizenship
  (https://www.cbp.gov/document/stats/nationwide-encounters), as in the calibration targets.

No figure covers the extra-continental origin (XCO): it keeps an index of 1, as before.
"""

from __future__ import annotations

import numpy as np

from .geography import ORIGINS

#: ICE removals by citizenship, (FY2022, FY2023)
REMOVALS = {
    "VEN": (176, 834), "HTI": (1532, 717), "CUB": (48, 371), "ECU": (1600, 5651),
    "COL": (3753, 9866), "NIC": (2538, 2320), "GTM": (6612, 20179), "HND": (6309, 22274),
    "SLV": (7231, 8310),
}  # fmt: skip
#: CBP southwest border encounters by citizenship, (FY2022, FY2023)
ENCOUNTERS = {
    "VEN": (187716, 266071), "HTI": (53910, 76130), "CUB": (220908, 142352),
    "ECU": (24060, 116229), "COL": (125172, 159536), "NIC": (163876, 99496),
    "GTM": (231565, 220085), "HND": (213023, 213686), "SLV": (97030, 61515),
}  # fmt: skip
REFERENCE = ("GTM", "HND", "SLV")


def _rate(codes) -> float:
    return sum(sum(REMOVALS[c]) for c in codes) / sum(sum(ENCOUNTERS[c]) for c in codes)


def removability() -> np.ndarray:
    """The index by origin (``ORIGINS`` order), in [0, 1]."""
    reference = _rate(REFERENCE)
    return np.array([min(1.0, _rate((o,)) / reference) if o in REMOVALS else 1.0 for o in ORIGINS])


REMOVABLE: np.ndarray = removability()
