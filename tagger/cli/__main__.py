"""``python -m tagger.cli``: the command-line commands, without the desktop app."""

import sys

from tagger.cli import main

sys.exit(main())
