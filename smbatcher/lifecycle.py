"""The lifecycle of a site: status codes, phases, claims and ranks (SPEC §2, §4).

Pure data, no I/O. Every module that asks "what does status X mean", "which
status does phase P claim", "where does a stale claim go back to" or "which of
two statuses is further along" asks here.

    -  --design-->  d  -->  D  --implement-->  i  -->  I  --finish-->  Q
                                                                 X (parked)
"""

from __future__ import annotations

from dataclasses import dataclass

NEW, DESIGNING, DESIGNED, IMPLEMENTING, IMPLEMENTED, FINISHED, PARKED = "-", "d", "D", "i", "I", "Q", "X"
STATUSES = (NEW, DESIGNING, DESIGNED, IMPLEMENTING, IMPLEMENTED, FINISHED, PARKED)
# Statuses an operator may set by hand: lower case means "claimed by a run in progress".
SETTABLE = tuple(s for s in STATUSES if not s.islower())
CLAIMS = (DESIGNING, IMPLEMENTING)
# Lifecycle rank used when merging duplicate rows: - < d < D < i < I < Q; X ranks with D.
RANK = {NEW: 0, DESIGNING: 1, DESIGNED: 2, PARKED: 2, IMPLEMENTING: 3, IMPLEMENTED: 4, FINISHED: 5}
# A claim whose run is gone goes back to the status before the claim (SPEC §6, wave-failure).
UNCLAIM = {DESIGNING: NEW, IMPLEMENTING: DESIGNED}
# Phase steps still ahead of a site in each status (design + implement): the ETA's unit of work.
STEPS_LEFT = {NEW: 2, DESIGNING: 2, DESIGNED: 1, IMPLEMENTING: 1}
# Statuses that mean "this phase's work is done" in the event log (throughput).
COMPLETIONS = (DESIGNED, IMPLEMENTED)


def is_claim(status: str) -> bool:
    return status in CLAIMS


@dataclass(frozen=True)
class Phase:
    name: str
    todo: str  # status a site must have to be worked on
    claim: str  # lower-case claim code while an agent works on it
    done: str  # status after success
    redo_from: tuple[str, ...]  # statuses past this phase that --redo may run again

    def returned(self, before_claim: str) -> str:
        """Where a site goes when an attempt ends without success: back to where it was (a parked
        site that was redone goes back to the phase's start, not to X)."""
        return self.todo if before_claim == PARKED else before_claim


DESIGN = Phase("design", todo=NEW, claim=DESIGNING, done=DESIGNED,
               redo_from=(DESIGNED, IMPLEMENTED, FINISHED, PARKED))
IMPLEMENT = Phase("implement", todo=DESIGNED, claim=IMPLEMENTING, done=IMPLEMENTED,
                  redo_from=(IMPLEMENTED, FINISHED, PARKED))
PHASES = {"design": DESIGN, "implement": IMPLEMENT}


def batch_key(batch: str) -> str:
    """A batch cell as smb writes it: ASCII digits zero-padded to 3; anything else (``²``, ``a1``) as it is.

    The one normalisation of batch numbers; input from an operator is checked by
    ``registry.normalize_batch`` first."""
    return f"{int(batch):03d}" if batch.isascii() and batch.isdigit() else batch
