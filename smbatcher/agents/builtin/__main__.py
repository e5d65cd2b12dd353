"""Run the builtin agent: ``python -m smbatcher.agents.builtin``."""

from smbatcher.agents.builtin import main

raise SystemExit(main())
