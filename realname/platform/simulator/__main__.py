"""`python -m realname.platform.simulator`: run the CTID simulator until interrupted."""

from __future__ import annotations

from realname.platform.simulator.cli import main

raise SystemExit(main())
