"""`python -m bench`: every workload against tier 0 and tier 1, or the ones the options name."""

from bench.cli import main

raise SystemExit(main())
