"""Agent text that a terminal or a page would act on (issue 22): what the tests feed smb, and how they
find a raw control character that got through. Written out here, not taken from smbatcher.text: the
tests check smb's list, they do not borrow it."""

import re

# A raw control character: C0 but tab and line feed, DEL, C1, bidi and line/paragraph separators.
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
ESCAPES = "\x1b]0;pwned\x07 \x1b[2J \x9b31m \u202eevil"
