"""The failure classes of an attempt, defined once: why it ended, and whether it burns an attempt (issue 10, 19).

The classifier (``classify.py``) names one of these for every attempt; the pool's
counting rules (``pool/rules.py``) say what each one does to the site and the run.

- ``ok``            exit 0 and the expected output exists.
- ``site``          the agent failed on this site: counted against its attempts.
- ``usage-limit``   a subscription limit (session / weekly / Opus): hold until ``reset_at``.
- ``rate-limited``  a transient 429: back off, not counted.
- ``outage``        5xx, 529, network, timeouts, no answer: the breaker's business.
- ``auth``          the agent cannot work at all as configured (bad or missing key, not
                    logged in, no credit, no access to the model, refused flags): stop
                    launching, no attempt burned.
- ``no-output``     exit 0 but the expected output is missing (e.g. permission denials): counted.
- ``stalled``       no byte on stdout/stderr for ``stall_timeout`` (a hung API stream): the group is
                    stopped; a site's first stall is not counted, a second one is.
- ``cannot-start``  exec of the agent's command failed (ENOENT, EACCES, ENOEXEC): the run's problem,
                    not the site's; the run stops at once, nothing counted.
- ``budget``        the agent's own cap ran out (``--max-budget-usd``, ``--max-turns``: result subtype
                    error_max_budget_usd / error_max_turns): the site parks with that reason; it
                    never opens the breaker and never halts the run.
- ``halted``        the run halted (issue 11): what its agents did after is not the sites' fault.
- ``stopped``       stopped on request (a signal, ``smb stop``): the site goes back, nothing counted.
- ``resume-failed`` a kept session could not be continued (its transcript unreadable, "No conversation
                    found"): the session is given up and the site launched again at once, fresh,
                    nothing counted (issue 21).
"""

OK = "ok"
SITE = "site"
USAGE_LIMIT = "usage-limit"
RATE_LIMITED = "rate-limited"
OUTAGE = "outage"
AUTH = "auth"
NO_OUTPUT = "no-output"
CLASSES = (OK, SITE, USAGE_LIMIT, RATE_LIMITED, OUTAGE, AUTH, NO_OUTPUT)
COUNTED = frozenset({SITE, NO_OUTPUT})  # classes that burn one of the site's attempts
STALLED = "stalled"
CANNOT_START = "cannot-start"
BUDGET = "budget"
HALTED = "halted"
STOPPED = "stopped"
RESUME_FAILED = "resume-failed"  # issue 21: a kept session could not be continued: started fresh at once
