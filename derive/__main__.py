"""``python -m derive``: see :mod:`derive.cli`.

Loading SymPy takes most of a second; a Ctrl-C or SIGTERM in that time ends with the same
one line as one during a command, never a traceback from inside an import.
"""

import signal
import sys


def _stopped_while_loading(number: int, frame) -> None:
    terminated = number == signal.SIGTERM
    print(f"derive: {'terminated' if terminated else 'interrupted'}", file=sys.stderr)
    sys.exit(143 if terminated else 130)


_defaults = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
for _number, _handler in _defaults.items():
    if _handler in (signal.default_int_handler, signal.SIG_DFL):
        signal.signal(_number, _stopped_while_loading)

from derive.cli import main  # noqa: E402 - the handlers must be in place before the slow import

for _number, _handler in _defaults.items():
    if signal.getsignal(_number) is _stopped_while_loading:
        signal.signal(_number, _handler)

main()
