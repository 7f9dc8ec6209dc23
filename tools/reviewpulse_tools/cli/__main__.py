"""`python -m reviewpulse_tools.cli …`: the `reviewpulse` command without its console script."""

import sys

from reviewpulse_tools.cli.main import main

sys.exit(main())
