"""`python -m integrations.cli`: the same as the `carepath` command."""

import sys

from integrations.cli import main

sys.exit(main())
