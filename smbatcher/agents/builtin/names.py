"""The site's name, read from its domain: ``green-leaf.co.uk`` -> ``Green Leaf``.

Holds the brand label (the part of the domain that names the business, past
``www.`` and country-code second levels) and the display name made from it.
"""

from __future__ import annotations

import re

# Second-level labels under country codes (lotus.co.uk): the brand is one
# label further left.
_GENERIC_SECOND_LEVEL = {"co", "com", "org", "net", "ac", "gov", "edu", "ltd", "plc"}


def brand_label(domain: str) -> str:
    labels = [label for label in domain.lower().strip(".").split(".") if label]
    if labels and labels[0] == "www":
        labels = labels[1:]
    if len(labels) >= 3 and labels[-2] in _GENERIC_SECOND_LEVEL and len(labels[-1]) == 2:
        return labels[-3]
    if len(labels) >= 2:
        return labels[-2]
    return labels[0] if labels else "site"


def name_from_domain(domain: str) -> str:
    """``lotus.dev`` -> ``Lotus``; ``green-leaf.io`` -> ``Green Leaf``."""
    words = [word for word in re.split(r"[-_]+", brand_label(domain)) if word]
    return " ".join(word[:1].upper() + word[1:] for word in words) or "Site"
