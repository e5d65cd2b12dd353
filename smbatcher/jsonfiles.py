"""Reading the JSON smb keeps beside the registry: the hold, run records, event lines (issue 22).

smb writes these itself, but a crash, a full disk, a hand edit or an agent's words can leave in them
what no command may choke on: bytes that are not UTF-8, text that is not JSON, and lone surrogates
(``"\\ud800"`` is valid JSON, yet no terminal or file can take the string it makes). One lone
surrogate in a usage-limit message used to make ``smb status``, ``smb hold``, ``smb doctor`` and
every new run fail with "unexpected UnicodeEncodeError" until a person deleted the hold.

The rule: what cannot be read is ignored (``Unreadable``, the caller warns once); lone surrogates in
what can be read become U+FFFD, so the hold still holds and a live run's record still protects its
claims.
"""

from __future__ import annotations

import json
import re
import sys

# Only a \uD800-\uDFFF escape can put a surrogate into a string json.loads returns: text decoded
# strictly as UTF-8 holds none. Most lines have no escape at all, so this check costs almost nothing.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class Unreadable(ValueError):
    """Not UTF-8, or not JSON: the file or line is to be ignored (with one warning)."""


def loads(data: bytes | str) -> object:
    """``json.loads`` of UTF-8 ``data``, every string of the result valid Unicode (lone surrogates -> U+FFFD).

    Raises Unreadable when ``data`` is not UTF-8 or not JSON (or nested too deep to parse).
    """
    try:
        text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
        value = json.loads(text)
    except UnicodeDecodeError as exc:
        raise Unreadable(f"not UTF-8 (byte {exc.start})") from None
    except (ValueError, RecursionError) as exc:
        raise Unreadable(f"not JSON ({exc})" if isinstance(exc, ValueError) else "not JSON (nested too deep)") from None
    if _SURROGATE_ESCAPE.search(text):
        value = valid_unicode(value)
    return value


def valid_unicode(value):
    """``value`` (JSON data) with every lone surrogate in its strings and keys replaced by U+FFFD."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            # Through UTF-16 with surrogatepass: a lone half cannot decode and becomes U+FFFD.
            return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if isinstance(value, list):
        return [valid_unicode(item) for item in value]
    if isinstance(value, dict):
        return {valid_unicode(key): valid_unicode(item) for key, item in value.items()}
    return value


_warned: set[str] = set()


def warn_once(key: str, message: str) -> None:
    """One ``smb: warning:`` line on stderr per ``key`` and process: a runner reads these files every
    few moments, and the operator needs to hear about a damaged one once, not once a second."""
    if key in _warned:
        return
    _warned.add(key)
    try:
        sys.stderr.write(f"smb: warning: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # a closed stderr must not turn a warning into a failure
