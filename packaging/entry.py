"""Entry script of the frozen app: the same ``main`` as the ``chainfolio`` command."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
