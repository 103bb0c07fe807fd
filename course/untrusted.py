"""Files a student controls (submitted/): taken in as regular files only, never through a link.

A symlink in a submission could point at the gradebook, the instructor's notebook with its
solutions or another student's work, which the grader can read and the student cannot; a hard
link does the same without showing as a link (only its link count tells); a named pipe would
block the grader for ever. So nothing here follows a link or opens a special file, and a file
with more than one name is read only when the caller has found every one of its names
(`other_names`) and says how many there are.
"""
import os
import stat
from pathlib import Path


class NotRegularFile(OSError):
    """A path that is a symlink, a hard link (a file with more than one name), a named pipe,
    a device, a socket or a folder."""


def _regular(status, names=1):
    """True for the stat of a regular file with `names` names (st_nlink), any number if None."""
    return stat.S_ISREG(status.st_mode) and (names is None or status.st_nlink == names)


def is_regular_file(path, names=1):
    """True for a regular file itself (lstat: a symlink to one is not) with `names` names: by
    default one, so a hard link (st_nlink > 1) is not; `names=None` takes any number."""
    try:
        return _regular(os.lstat(path), names)
    except OSError:
        return False


def other_names(path, base):
    """The other names (paths) under the folder `base` of the regular file at `path`: its hard
    links, found by walking `base` without following symlinks. Raises NotRegularFile if `path` is
    not a regular file or if some of its names are not under `base` (st_nlink counts more
    names than the walk found). [] for a file with one name, without a walk."""
    try:
        status = os.lstat(path)
    except OSError as error:
        raise NotRegularFile(f"{path}: {error}") from error
    if not _regular(status, None):
        raise NotRegularFile(f"{path} is not a regular file")
    if status.st_nlink == 1:
        return []
    same, itself, found = (status.st_dev, status.st_ino), os.path.abspath(path), []
    for folder, _, files in os.walk(base):  # followlinks=False: symlinked folders are not entered
        for name in files:
            candidate = os.path.abspath(os.path.join(folder, name))
            try:
                other = os.lstat(candidate)
            except OSError:
                continue
            if (other.st_dev, other.st_ino) == same and candidate != itself:
                found.append(Path(candidate))
    if len(found) + 1 != status.st_nlink:
        raise NotRegularFile(f"{path} has {status.st_nlink} names, {len(found) + 1} of them under {base}")
    return sorted(found)


def lexists(path):
    """True if anything is at `path`, a dangling symlink included."""
    return os.path.lexists(path)


def read_regular(path, limit=None, names=1):
    """The bytes of a regular file with `names` names (see is_regular_file; at most `limit`
    bytes), opened without following a symlink and without blocking on a named pipe; raises
    NotRegularFile for anything else (also for what was swapped in between a check and the
    open, or a name added since) and OSError as open() does."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        if os.path.islink(path):
            raise NotRegularFile(f"{path} is a symlink") from error
        raise
    if not _regular(os.fstat(descriptor), names):
        os.close(descriptor)
        raise NotRegularFile(f"{path} is not a regular file with {names} name(s) (a hard link?)")
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
