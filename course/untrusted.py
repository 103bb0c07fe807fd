"""Files a student controls (submitted/): taken in as regular files only, never through a link.

A symlink in a submission could point at the gradebook, the instructor's notebook with its
solutions or another student's work, which the grader can read and the student cannot; a hard
link does the same without showing as a link (only its link count tells); a named pipe would
block the grader for ever. So nothing here follows a link, takes in a file with more than one
name or opens a special file.
"""
import os
import stat
from pathlib import Path


class NotRegularFile(OSError):
    """A path that is a symlink, a hard link (a file with more than one name), a named pipe,
    a device, a socket or a folder."""


def _single_regular(status):
    """True for the stat of a regular file with one name only (st_nlink 1)."""
    return stat.S_ISREG(status.st_mode) and status.st_nlink == 1


def is_regular_file(path):
    """True for a regular file itself with no other name (lstat: a symlink to one is not; a
    hard link, st_nlink > 1, is not either)."""
    try:
        return _single_regular(os.lstat(path))
    except OSError:
        return False


def lexists(path):
    """True if anything is at `path`, a dangling symlink included."""
    return os.path.lexists(path)


def read_regular(path, limit=None):
    """The bytes of a regular file (at most `limit` of them), opened without following a
    symlink and without blocking on a named pipe; raises NotRegularFile for anything else
    (also for what was swapped in between a check and the open) and OSError as open() does."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        if os.path.islink(path):
            raise NotRegularFile(f"{path} is a symlink") from error
        raise
    if not _single_regular(os.fstat(descriptor)):
        os.close(descriptor)
        raise NotRegularFile(f"{path} is not a regular file with one name (a hard link?)")
    with os.fdopen(descriptor, "rb") as handle:
        return handle.read() if limit is None else handle.read(limit)


def is_real_folder(folder, base):
    """True if `folder` is a directory below `base` reached without any symlink on the way:
    its real path is the real path of `base` joined with its path relative to `base`."""
    folder, base = Path(folder), Path(base)
    try:
        relative = os.path.relpath(folder, base)
    except ValueError:
        return False
    try:
        if relative.startswith(os.pardir) or not stat.S_ISDIR(os.lstat(folder).st_mode):
            return False
    except OSError:
        return False
    return os.path.realpath(folder) == os.path.join(os.path.realpath(base), relative)
