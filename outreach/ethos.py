"""ETHOS, the European typology of homelessness and housing exclusion (FEANTSA): the 13
operational categories the CPAS use to count homeless people ("cf. typologie ETHOS",
000_c978cae824ba8598.txt:655), plus "unknown".

Codes are stored on each encounter. The labels here are plain English constants: the
domain does not import Flask-Babel, so web/ keeps a dict of the same msgids (`_l(...)`)
for FR/NL/EN display, keyed by these codes.
"""

from __future__ import annotations

UNKNOWN = "unknown"

# (code, conceptual category, English label)
CATEGORIES: tuple[tuple[str, str, str], ...] = (
    ("ethos_1", "roofless", "Living rough (public space, no shelter)"),
    ("ethos_2", "roofless", "In emergency (night) accommodation"),
    ("ethos_3", "houseless", "In accommodation for the homeless"),
    ("ethos_4", "houseless", "In a women's shelter"),
    ("ethos_5", "houseless", "In accommodation for immigrants"),
    ("ethos_6", "houseless", "Due to be released from an institution"),
    ("ethos_7", "houseless", "Receiving longer-term support (due to homelessness)"),
    ("ethos_8", "insecure", "In insecure accommodation (with friends, no tenancy, squat)"),
    ("ethos_9", "insecure", "Under threat of eviction"),
    ("ethos_10", "insecure", "Under threat of violence"),
    ("ethos_11", "inadequate", "In a temporary or non-conventional structure"),
    ("ethos_12", "inadequate", "In unfit housing"),
    ("ethos_13", "inadequate", "In extreme overcrowding"),
)

CODES: tuple[str, ...] = (*(code for code, _group, _label in CATEGORIES), UNKNOWN)
GROUPS: dict[str, str] = {code: group for code, group, _label in CATEGORIES}
GROUP_LABELS = {
    "roofless": "Roofless",
    "houseless": "Houseless",
    "insecure": "Insecure housing",
    "inadequate": "Inadequate housing",
}
LABELS: dict[str, str] = {code: label for code, _group, label in CATEGORIES} | {
    UNKNOWN: "Not known"
}
# The homeless count of the CPAS reports: roofless and houseless people.
HOMELESS_GROUPS = ("roofless", "houseless")


def group_of(code: str) -> str | None:
    return GROUPS.get(code)
