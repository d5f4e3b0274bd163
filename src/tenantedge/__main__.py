"""`python -m tenantedge` runs the command line."""

from tenantedge.cli import main

raise SystemExit(main())
