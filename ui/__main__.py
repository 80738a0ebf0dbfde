"""``python -m ui``: the ``genre-tagger`` program from a source tree."""

import sys

from ui.launcher import main

sys.exit(main())
