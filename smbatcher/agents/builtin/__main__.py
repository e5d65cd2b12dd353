"""Run the builtin agent: ``python -m smbatcher.agents.builtin``."""

from smbatcher.agents.builtin.entry import main

raise SystemExit(main())
