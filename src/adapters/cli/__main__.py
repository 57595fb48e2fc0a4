"""``python -m sansio_chat.adapters.cli``: the ``sansio-chat`` command."""

import sys

from ._main import main

sys.exit(main())
