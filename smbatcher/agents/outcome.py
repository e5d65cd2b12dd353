"""The old home of the attempt classifier, kept so that ``from smbatcher.agents.outcome import ...`` works.

It now lives in modules named for what they hold: ``classes.py`` (the failure
classes), ``stream.py`` (the stream-json reader), ``resets.py`` (reset times)
and ``classify.py`` (the classifier and its message patterns).
"""

from .classes import AUTH, CLASSES, COUNTED, NO_OUTPUT, OK, OUTAGE, RATE_LIMITED, SITE, USAGE_LIMIT  # noqa: F401
from .classify import OUTAGE_WORDS, OVERLOAD_WORDS, RATE_WORDS, AgentReport, classify  # noqa: F401
from .resets import LIMIT_TYPES, parse_reset  # noqa: F401
from .stream import ACTION_MAX, LOG_HEADER, MESSAGE_MAX, AgentStream, latest_action  # noqa: F401
