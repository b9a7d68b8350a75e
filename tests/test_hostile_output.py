"""Outputs: files go where the user said and nowhere else, whole, with their mode; every refusal is one line.

The tables run the command line in-process: ``-o FILE`` for a printed format, ``--pdf -o DIR`` (TeX
switched off, so the .tex is written and the command stops where TeX would start) for documents, and
spec names that try to leave the folder. Signals are sent to a real process while TeX runs.
"""

import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hostile import ROOT, assert_one_line_error, backprop_spec, default_sigint, net_spec, run_cli, sheet_spec, tree, write
from test_pdf import needs_tex

from derive import pdf


@pytest.fixture
def no_tex(monkeypatch):
    """``--pdf`` writes its .tex and stops with exit status 1 where TeX would start."""
    monkeypatch.setattr(pdf, "tex_available", lambda: False)


# -o FILE: (what -o is, the expected status, what stderr mentions, then a check of what is left).
def _folder(tmp_path):
    (tmp_path / "dir").mkdir()
    return str(tmp_path / "dir")


def _symlink(tmp_path):
    (tmp_path / "real.tex").write_text("old")
    (tmp_path / "link.tex").symlink_to(tmp_path / "real.tex")
    return str(tmp_path / "link.tex")


def _dangling(tmp_path):
    (tmp_path / "link.tex").symlink_to(tmp_path / "missing" / "x.tex")
    return str(tmp_path / "link.tex")


def _fifo(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    return str(tmp_path / "fifo")


def _block_device(tmp_path):
    try:
        os.mknod(tmp_path / "block", stat.S_IFBLK | 0o600, os.makedev(7, 200))
    except PermissionError:
        pytest.skip("only root can make a block device")
    return str(tmp_path / "block")


def _written_through_link(tmp_path):
    written = (tmp_path / "real.tex").read_text().startswith("% derive xavier")
    return (tmp_path / "link.tex").is_symlink() and written


OUTPUT_FILE = {
    "a folder": (_folder, 2, "it is a folder", lambda t: list((t / "dir").iterdir()) == []),
    "empty": (lambda t: "", 2, "empty", None),
    "300 characters": (lambda t: str(t / ("x" * 300)), 2, "File name too long", None),
    "in a missing folder": (lambda t: str(t / "no" / "x.tex"), 2, "does not exist", None),
    "a symlink": (_symlink, 0, None, _written_through_link),
    "a dangling symlink": (_dangling, 2, "symbolic link to a missing file",
                           lambda t: (t / "link.tex").is_symlink() and not (t / "missing").exists()),
    "/dev/null": (lambda t: "/dev/null", 0, None, lambda t: stat.S_ISCHR(os.stat("/dev/null").st_mode)),
    "/dev/full": (lambda t: "/dev/full", 2, "No space left on device", None),
    "a FIFO nobody reads": (_fifo, 2, "no process is reading the FIFO",
                            lambda t: stat.S_ISFIFO(os.lstat(t / "fifo").st_mode)),
    "a block device": (_block_device, 2, "not a regular file, a character device or a FIFO",
                       lambda t: stat.S_ISBLK(os.lstat(t / "block").st_mode)),
    "a missing device": (lambda t: f"/dev/derive-{t.name}", 2, "no such device",
                         lambda t: not Path(f"/dev/derive-{t.name}").exists()),
}


@pytest.mark.parametrize("case", OUTPUT_FILE)
def test_output_file_is_written_through_or_refused_in_one_line(tmp_path, capsys, case):
    make, status_expected, mentions, check = OUTPUT_FILE[case]
    target = make(tmp_path)
    status, out, err = run_cli(capsys, "xavier", "--latex", "-o", target)
    if status_expected == 0:
        assert status == 0 and not out and not err, err
    else:
        assert_one_line_error(status, err, mentions=mentions)
    assert check is None or check(tmp_path)
    assert not [p for p in tmp_path.rglob(".derive-*")], "a temporary file was left"


def test_output_into_a_fifo_with_a_reader_is_written_through(tmp_path, capsys):
    fifo = _fifo(tmp_path)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader is there; the output fits the pipe
    try:
        status, _, err = run_cli(capsys, "xavier", "--latex", "-o", fifo)
        received = os.read(reader, 1 << 20).decode()
    finally:
        os.close(reader)
    assert status == 0, err
    assert received.startswith("% derive xavier") and received.rstrip().endswith(r"\end{align*}")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.parametrize("redirect", ["w", "a"], ids=[">", ">>"])
def test_dev_stdout_redirected_to_a_file_is_written_through_as_the_shell_opened_it(tmp_path, redirect):
    target = tmp_path / "log.txt"
    target.write_text("before\n")
    with target.open(redirect) as stdout:
        done = subprocess.run([sys.executable, "-m", "derive", "xavier", "--latex", "-o", "/dev/stdout"],
                              cwd=ROOT, stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 0 and not done.stderr
    text = target.read_text()
    assert text.startswith("before\n% derive xavier" if redirect == "a" else "% derive xavier")
    assert text.rstrip().endswith(r"\end{align*}")


@pytest.mark.parametrize("mode", [0o644, 0o600, 0o640, 0o755])
def test_an_existing_file_keeps_its_mode(tmp_path, capsys, mode):
    target = tmp_path / "x.tex"
    target.write_text("old")
    target.chmod(mode)
    assert run_cli(capsys, "xavier", "--latex", "-o", str(target))[0] == 0
    assert stat.S_IMODE(target.stat().st_mode) == mode and target.read_text().startswith("% derive xavier")


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_gets_the_mode_the_umask_gives(tmp_path, capsys, umask, mode):
    old = os.umask(umask)
    try:
        assert run_cli(capsys, "xavier", "--latex", "-o", str(tmp_path / "x.tex"))[0] == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "x.tex").stat().st_mode) == mode


@pytest.fixture
def unwritable(tmp_path):
    """A folder nobody may write into: immutable for root (chattr +i), read-only for anyone else."""
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "x.tex").write_text("old")
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
            pytest.skip("root, and this file system has no immutable attribute")
        yield folder
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    else:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)


@pytest.mark.parametrize("args", [["xavier", "--latex", "-o", "{folder}/x.tex"],
                                  ["xavier", "--latex", "-o", "{folder}/new.tex"],
                                  ["xavier", "--pdf", "-o", "{folder}"],
                                  ["xavier", "--pdf", "-o", "{folder}/sub"]],
                         ids=["replace", "new", "pdf-into", "pdf-subfolder"])
def test_an_unwritable_folder_is_one_line_and_stays_as_it_was(unwritable, capsys, no_tex, args):
    before = tree(unwritable)
    status, _, err = run_cli(capsys, *[a.format(folder=unwritable) for a in args])
    assert_one_line_error(status, err)
    assert tree(unwritable) == before


# --pdf -o DIR with a spec whose name tries to leave DIR: (spec, its file, the files expected in DIR).
LONG = "n" * 300
NAMES = {
    "net ../x": (net_spec(name="../x"), ["x-en.tex"]),
    "net /abs/p": (net_spec(name="/abs/p"), ["abs-p-en.tex"]),
    "net .hidden": (net_spec(name=".hidden"), ["hidden-en.tex"]),
    "net a/../../b": (net_spec(name="a/../../b"), ["a-.-.-b-en.tex"]),
    "net dashes": (net_spec(name="-rf"), ["rf-en.tex"]),
    "net newline": (net_spec(name="a\nb"), ["a-b-en.tex"]),
    "net only dots": (net_spec(name=".."), ["derive-en.tex"]),
    "net 300 characters": (net_spec(name=LONG), ["n" * 120 + "-en.tex"]),
    "backprop ../../etc/x": (backprop_spec(name="../../etc/x"), ["etc-x-en.tex"]),
    "backprop /tmp/p": (backprop_spec(name="/tmp/p"), ["tmp-p-en.tex"]),
    "backprop Chinese": (backprop_spec(name="反向传播"), ["反向传播-en.tex"]),
}


@pytest.mark.parametrize("case", NAMES)
def test_a_spec_name_never_leads_out_of_the_output_folder(tmp_path, capsys, no_tex, case):
    spec, expected = NAMES[case]
    command = case.split()[0]
    (tmp_path / "spec").mkdir()
    path = write(tmp_path / "spec" / "s.toml", spec)
    out = tmp_path / "work" / "out" / "sub"
    status, _, err = run_cli(capsys, command, path, "--pdf", "-o", str(out))
    assert_one_line_error(status, err, expected_status=1, mentions="no TeX found")
    assert sorted(p.name for p in out.iterdir()) == expected
    everything = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert everything == ["spec/s.toml", *(f"work/out/sub/{name}" for name in expected)]


@pytest.mark.parametrize("stem, expected", [(".hidden", "hidden"), ("-rf", "rf"), ("a b", "a-b")])
def test_a_sheet_spec_file_name_becomes_a_plain_output_name(tmp_path, capsys, stem, expected):
    spec = write(tmp_path / f"{stem}.toml", sheet_spec())
    status, _, err = run_cli(capsys, "sheet", spec, "--no-key", "-o", str(tmp_path / "out"))
    assert status == 0, err
    assert [p.name for p in (tmp_path / "out").iterdir()] == [f"{expected}.tex"]


def _link_in_folder(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "elsewhere.tex").write_text("keep me")
    (tmp_path / "out" / "tiny-en.tex").symlink_to(tmp_path / "elsewhere.tex")


def _fifo_in_folder(tmp_path):
    (tmp_path / "out").mkdir()
    os.mkfifo(tmp_path / "out" / "tiny-en.tex")


def _file_as_folder(tmp_path):
    (tmp_path / "out").write_text("a file")


PDF_FOLDER = {
    "a link with the output's name": (_link_in_folder, "not a regular file"),
    "a FIFO with the output's name": (_fifo_in_folder, "not a regular file"),
    "-o a file": (_file_as_folder, "is a file, not a folder"),
}


@pytest.mark.parametrize("case", PDF_FOLDER)
def test_the_output_folder_never_replaces_what_is_not_a_regular_file(tmp_path, capsys, no_tex, case):
    make, mentions = PDF_FOLDER[case]
    make(tmp_path)
    spec = write(tmp_path / "tiny.toml", net_spec())
    before = tree(tmp_path)
    status, _, err = run_cli(capsys, "net", spec, "--pdf", "-o", str(tmp_path / "out"))
    assert_one_line_error(status, err, mentions=mentions)
    assert tree(tmp_path) == before


@pytest.mark.parametrize("args", [["xavier", "--pdf", "-o", ""], ["sheet", "{spec}", "-o", ""],
                                  ["net", "resnet18", "--pdf", "-o", ""], ["xavier", "--latex", "-o", ""]])
def test_an_empty_output_name_is_refused_not_taken_for_the_default(tmp_path, capsys, no_tex, monkeypatch,
                                                                   args):
    monkeypatch.chdir(tmp_path)
    spec = write(tmp_path / "s.toml", sheet_spec())
    status, _, err = run_cli(capsys, *[a.format(spec=spec) for a in args])
    assert_one_line_error(status, err, mentions="empty")
    assert [p.name for p in tmp_path.iterdir()] == ["s.toml"]


# TeX in its own process group: the time limit (or anything else that stops the build) kills all of it.
def _live(group: int) -> list[int]:
    """Processes of a process group that are still running (not zombies)."""
    alive = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] not in "ZX":
            alive.append(int(entry.name))
    return alive


def _until(condition, limit: float = 60):
    """Poll ``condition`` until it holds, at most ``limit`` seconds (a bound, not a timing assertion)."""
    deadline = time.monotonic() + limit
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def test_tex_over_its_time_limit_is_killed_with_its_children(tmp_path, monkeypatch):
    groups, real_popen = [], subprocess.Popen

    def slow_popen(command, **kwargs):  # xelatex stands in: a shell with a child, both sleeping
        process = real_popen(["sh", "-c", "sleep 300 & sleep 300"], **kwargs)
        groups.append(process.pid)
        return process

    monkeypatch.setattr(pdf, "tex_available", lambda: True)
    monkeypatch.setattr(pdf, "TIMEOUT", 1)
    monkeypatch.setattr(subprocess, "Popen", slow_popen)
    with pytest.raises(pdf.TexError, match="did not finish"):
        pdf.build_pdf("x", "x", tmp_path)
    assert groups and _until(lambda: not _live(groups[0])), _live(groups[0])
    assert list(tmp_path.iterdir()) == []


def test_a_temporary_folder_that_cannot_be_made_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(pdf, "tex_available", lambda: True)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no" / "such" / "folder"))
    status, _, err = run_cli(capsys, "xavier", "--pdf", "-o", str(tmp_path / "out"))
    assert_one_line_error(status, err, mentions="cannot build xavier-en.pdf: No such file or directory")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["xavier-en.tex"]


@needs_tex
@pytest.mark.parametrize("signal_number, status, word", [(signal.SIGTERM, 143, "terminated"),
                                                         (signal.SIGINT, 130, "interrupted")])
def test_a_signal_during_tex_is_one_line_and_leaves_no_temporary_folder(tmp_path, signal_number, status,
                                                                         word):
    temporary, out = tmp_path / "tmp", tmp_path / "out"
    temporary.mkdir(), out.mkdir()
    (out / "xavier-en.pdf").write_bytes(b"the previous PDF")
    process = subprocess.Popen([sys.executable, "-m", "derive", "xavier", "--pdf", "-o", str(out)], cwd=ROOT,
                               env={**os.environ, "TMPDIR": str(temporary)}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=default_sigint)
    try:
        started = _until(lambda: any(temporary.glob("derive-tex-*")) or process.poll() is not None, 120)
        assert started and process.poll() is None, "the build ended before TeX started"
        process.send_signal(signal_number)
        _, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == status
    assert err.strip() == f"derive: {word}" and "Traceback" not in err
    assert list(temporary.iterdir()) == []
    assert sorted(p.name for p in out.iterdir()) == ["xavier-en.pdf", "xavier-en.tex"]
    assert (out / "xavier-en.pdf").read_bytes() == b"the previous PDF"
    assert (out / "xavier-en.tex").read_text().startswith("% template: base.tex.j2")


def _catches(pid: int, number: int) -> bool:
    """Whether process ``pid`` has a handler installed for signal ``number`` (SigCgt in /proc)."""
    status = Path(f"/proc/{pid}/status").read_text()
    mask = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), 16)
    return bool(mask >> (number - 1) & 1)


@pytest.mark.parametrize("signal_number, status, word", [(signal.SIGTERM, 143, "terminated"),
                                                         (signal.SIGINT, 130, "interrupted")])
def test_a_signal_while_sympy_loads_is_one_line(signal_number, status, word):
    # derive catches SIGTERM from the first line of __main__, before SymPy loads: wait for that
    # handler (not for a time), then stop it while it is still loading or just after.
    process = subprocess.Popen([sys.executable, "-m", "derive", "xavier"], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env={**os.environ, "DERIVE_NO_CACHE": "1"},
                               preexec_fn=default_sigint)
    try:
        for _ in range(100_000):
            if process.poll() is not None or _catches(process.pid, signal.SIGTERM):
                break
        process.send_signal(signal_number)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert "Traceback" not in err.decode()
    assert process.returncode == status and err.decode().strip() == f"derive: {word}"


def test_the_package_loads_sympy_only_when_used():
    # What makes the early handler above cover the slow import: `import derive` itself is cheap.
    code = "import sys, derive; assert 'sympy' not in sys.modules; derive.get('sigmoid'); assert 'sympy' in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=120).returncode == 0
