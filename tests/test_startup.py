"""How a command ends: without Python's teardown (derive.cli._exit), yet with its whole output, its
exit status and the exit handlers that other code registered."""

import os
import subprocess
import sys

import pytest
from hostile import ROOT, assert_one_line_error, run_cli

# A process that registers an exit handler of its own, then runs the command line as the
# console script does.
SCRIPT = """
import atexit, sys
atexit.register(lambda: print("exit handler ran"))
sys.argv = ["derive", *sys.argv[1:]]
from derive.cli import main
main()
"""


@pytest.mark.parametrize("args, status", [
    (["sigmoid", "--latex"], 0),
    (["sigmoid", "--md", "--lang", "zh"], 0),
    (["no-such-entry"], 2),
])
def test_a_command_ends_with_its_whole_output_status_and_exit_handlers(capsys, args, status):
    expected_status, expected_out, _ = run_cli(capsys, *args)
    buffered = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, *args], check=False, capture_output=True, text=True,
                          cwd=ROOT, timeout=120, env=buffered)
    # stdout is buffered (a pipe): what the handler prints is there only if the buffer is flushed after it
    assert (done.returncode, done.stdout) == (expected_status, expected_out + "exit handler ran\n")
    assert expected_status == status
    if status:
        assert_one_line_error(done.returncode, done.stderr, status)
    else:
        assert done.stderr == ""
