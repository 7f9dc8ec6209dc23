"""`python -m reviewpulse_cli …`: the `reviewpulse` command without its console script."""

import sys

from reviewpulse_cli.main import main

sys.exit(main())
