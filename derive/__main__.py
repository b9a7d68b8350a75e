"""``python -m derive``: see :mod:`derive.cli`."""

from .cli import main

main()
