"""The one file reader and the one file writer: a regular file is replaced atomically; a
device, a FIFO or a symbolic link is never replaced; nothing read can hang the process or
fill its memory; a lock file is never opened through a link.

Devices are made with `mknod` inside the test's own directory (as root), never the real
`/dev` nodes: a test must not write to a system path.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelaudit.errors import UsageError
from modelaudit.fileio import FileError, open_lock, read_bytes, read_text, write_text

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="mknod needs root")


def device(path: Path, major: int, minor: int, *, block: bool = False) -> Path:
    kind = stat.S_IFBLK if block else stat.S_IFCHR
    os.mknod(path, 0o666 | kind, os.makedev(major, minor))
    return path


@pytest.fixture
def null_device(tmp_path: Path) -> Path:
    return device(tmp_path / "null", 1, 3)  # what /dev/null is


@pytest.fixture
def full_device(tmp_path: Path) -> Path:
    return device(tmp_path / "full", 1, 7)  # what /dev/full is: every write fails, ENOSPC


@pytest.fixture
def zero_device(tmp_path: Path) -> Path:
    return device(tmp_path / "zero", 1, 5)  # what /dev/zero is: reads never end


# --- writing a regular file ----------------------------------------------------------------


def test_a_file_lands_whole_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "2026-12-01" / "report.html"

    write_text(target, "<p>report</p>\n", make_parents=True)

    assert target.read_text() == "<p>report</p>\n"
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


def test_a_new_file_replaces_the_old_by_rename_not_by_rewriting_it(tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    target.write_text("old report\n")
    old_inode = target.stat().st_ino

    with target.open() as reader:
        write_text(target, "new report\n")
        # The reader holds the old file: a rename never truncates it under the reader.
        assert reader.read() == "old report\n"

    assert target.read_text() == "new report\n"
    assert target.stat().st_ino != old_inode


def test_a_replaced_file_keeps_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "metrics.prom"
    target.write_text("old\n")
    target.chmod(0o640)

    write_text(target, "new\n")

    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_directory_is_refused_with_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is a directory; name a file"):
        write_text(tmp_path, "x")


def test_a_failed_write_keeps_the_old_file_and_cleans_up(isolated_env: Path) -> None:
    blocker = isolated_env / "not-a-dir"
    blocker.write_text("a file where a directory is needed\n")

    with pytest.raises(UsageError, match="cannot write"):
        write_text(blocker / "report.html", "x", make_parents=True)

    assert blocker.read_text() == "a file where a directory is needed\n"
    assert sorted(p.name for p in isolated_env.iterdir()) == ["not-a-dir"]


def test_a_missing_directory_is_named_not_created_unless_asked(isolated_env: Path) -> None:
    with pytest.raises(FileError, match="its directory does not exist"):
        write_text(isolated_env / "nope" / "modelaudit.lock", "x")

    assert list(isolated_env.iterdir()) == []


# --- writing what is not a regular file: never replaced ------------------------------------


@needs_root
def test_a_character_device_is_written_in_place_and_stays_a_device(null_device: Path) -> None:
    write_text(null_device, "a report nobody keeps\n")

    assert stat.S_ISCHR(null_device.lstat().st_mode)
    assert null_device.lstat().st_rdev == os.makedev(1, 3)


@needs_root
def test_a_full_device_is_a_clear_usage_error(full_device: Path) -> None:
    with pytest.raises(FileError, match="no space left on the device") as caught:
        write_text(full_device, "x" * 100_000)

    assert caught.value.exit_code == 2
    assert stat.S_ISCHR(full_device.lstat().st_mode)


@needs_root
def test_a_block_device_is_refused_untouched(tmp_path: Path) -> None:
    disk = device(tmp_path / "disk", 7, 200, block=True)  # a loop device number nobody uses

    with pytest.raises(FileError, match="is a block device: refusing"):
        write_text(disk, "x")

    assert stat.S_ISBLK(disk.lstat().st_mode)


def test_a_fifo_that_someone_reads_receives_the_text(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader, there before the writer
    try:
        write_text(fifo, "through the pipe\n")
        received = os.read(reader, 1024)
    finally:
        os.close(reader)

    assert received == b"through the pipe\n"
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_fifo_nobody_reads_is_refused_at_once_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    with pytest.raises(FileError, match="a FIFO no process reads"):
        write_text(fifo, "x")

    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_symbolic_link_is_written_through_and_never_replaced(tmp_path: Path) -> None:
    real = tmp_path / "real.html"
    real.write_text("old, and longer than what replaces it\n")
    link = tmp_path / "report.html"
    link.symlink_to(real)

    write_text(link, "new\n")

    assert link.is_symlink()
    assert real.read_text() == "new\n"


@needs_root
def test_a_link_to_a_device_is_written_in_place(null_device: Path, tmp_path: Path) -> None:
    link = tmp_path / "stdout"  # as /dev/stdout is a link to /proc/self/fd/1
    link.symlink_to(null_device)

    write_text(link, "x\n")

    assert link.is_symlink()
    assert stat.S_ISCHR(null_device.lstat().st_mode)


def test_a_link_to_nothing_is_refused_and_its_target_not_created(tmp_path: Path) -> None:
    link = tmp_path / "report.html"
    link.symlink_to(tmp_path / "planted")

    with pytest.raises(FileError, match="symbolic link to nothing"):
        write_text(link, "x")

    assert not (tmp_path / "planted").exists()
    assert link.is_symlink()


# --- reading --------------------------------------------------------------------------------


def test_a_regular_file_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text("sk-test\n")

    assert read_text(path, 100) == "sk-test\n"


def test_a_file_over_the_cap_is_refused_not_cut(tmp_path: Path) -> None:
    path = tmp_path / "big"
    path.write_bytes(b"x" * 101)

    with pytest.raises(FileError, match="is larger than 100 bytes") as caught:
        read_bytes(path, 100)

    assert caught.value.too_big


@needs_root
def test_an_endless_device_is_refused_before_it_is_read(zero_device: Path) -> None:
    with pytest.raises(FileError, match="is a character device, not a regular file"):
        read_bytes(zero_device, 1024)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "key"
    os.mkfifo(fifo)

    with pytest.raises(FileError, match=r"is a FIFO \(named pipe\), not a regular file"):
        read_text(fifo, 1024)


def test_a_loop_of_links_is_a_problem_named_in_words(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.symlink_to(b)
    b.symlink_to(a)

    with pytest.raises(FileError, match="symbolic link that cannot be followed"):
        read_text(a, 1024)


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(FileError) as caught:
        read_text(tmp_path / "nope", 10)

    assert caught.value.missing
    assert caught.value.message == f"{tmp_path / 'nope'}: does not exist"


def test_a_link_to_a_regular_file_is_followed(tmp_path: Path) -> None:
    (tmp_path / "..data").mkdir()  # how a Kubernetes secret is mounted
    (tmp_path / "..data" / "key").write_text("sk-test")
    (tmp_path / "key").symlink_to(tmp_path / "..data" / "key")

    assert read_text(tmp_path / "key", 100) == "sk-test"


# --- lock files -------------------------------------------------------------------------------


@pytest.fixture
def opened() -> Iterator[list[int]]:
    descriptors: list[int] = []
    yield descriptors
    for fd in descriptors:
        os.close(fd)


def test_a_lock_file_is_created_private(tmp_path: Path, opened: list[int]) -> None:
    path = tmp_path / "state" / "history.sqlite3.lock"

    opened.append(open_lock(path))

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_link_at_the_lock_path_is_refused_and_its_target_left_whole(
    tmp_path: Path, opened: list[int]
) -> None:
    precious = tmp_path / "precious"
    precious.write_text("do not truncate me\n")
    lock = tmp_path / "history.sqlite3.lock"
    lock.symlink_to(precious)

    with pytest.raises(FileError, match="is a symbolic link, not a lock file"):
        opened.append(open_lock(lock))

    assert precious.read_text() == "do not truncate me\n"


def test_a_fifo_at_the_lock_path_is_refused(tmp_path: Path, opened: list[int]) -> None:
    lock = tmp_path / "history.sqlite3.lock"
    os.mkfifo(lock)

    with pytest.raises(FileError, match="is a FIFO"):
        opened.append(open_lock(lock))
