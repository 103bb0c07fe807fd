"""Unpacking an LMS export without trusting it: nbgrader's zip_collect extractor, made safe.

nbgrader 0.9.6's ExtractorPlugin unpacks with setuptools' `unpack_zipfile`, which is not safe
for files from students' hands:
- a symbolic-link or special-file member (fifo, device) is written as a regular file holding
  the link's target, with the member's mode bits applied by chmod, set-uid bit included;
- members with `..` or an absolute path are dropped silently, so they cannot be reported;
- archives inside archives are unpacked again and again with no limit on sizes (zip bombs);
- files next to the archives are copied with shutil.copy, which follows symbolic links (a link
  to ~/.ssh/id_rsa in an unzipped export folder would be copied in).

SafeExtractor keeps nbgrader's plugin interface and layout (each archive into its own folder
of the `extracted` directory) but reads each zip member by member: it refuses links, special
files, absolute paths, `..`, control characters, encrypted or oversized members, and says why;
it writes each file new (never through an existing path), with mode 0644 and the member's
own modification time (the export's time of the upload, used to order two uploads).
"""
import os
import re
import shutil
import stat
import tempfile
import time
import unicodedata
import zipfile
from pathlib import Path

from nbgrader.plugins import ExtractorPlugin
from traitlets import Integer, List

CHUNK = 1 << 20


def printable(name):
    """A file name safe to print: control characters (a terminal's escape sequences) as \\xNN."""
    return "".join(f"\\x{ord(ch):02x}" if ord(ch) < 32 or ord(ch) == 127 else ch for ch in name)


def regular_files(top):
    """(path, path relative to top, problem) for every file under `top`, sorted, never following
    a link. `problem` is None for a regular file, else why it is refused (the relative path is
    then made printable)."""
    top = Path(top)

    def walk(folder):
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                path = Path(entry.path)
                relative = path.relative_to(top).as_posix()
                if printable(relative) != relative:
                    yield path, printable(relative), "control character in the name"
                elif entry.is_symlink():
                    yield path, relative, "symbolic link"
                elif entry.is_dir(follow_symlinks=False):
                    yield from walk(path)
                elif entry.is_file(follow_symlinks=False):
                    yield path, relative, None
                else:
                    yield path, relative, "special file (fifo, socket or device)"

    yield from walk(top)


def _member_name(info):
    """The member's name as its maker meant it: zipfile reads names without the UTF-8 flag as
    cp437; Korean Windows tools write cp949 and many others UTF-8 without the flag."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            raw = name.encode("cp437")
        except UnicodeEncodeError:
            raw = None
        for encoding in ("utf-8", "cp949"):
            try:
                name = raw.decode(encoding) if raw is not None else name
                break
            except UnicodeDecodeError:
                continue
    return unicodedata.normalize("NFC", name)


def member_problem(info, name):
    """Why a zip member must not be extracted, or None. Directories are not a problem."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return "control character in the name"
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        return "absolute path"
    if ".." in re.split(r"[/\\]", name):
        return "path with '..'"
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK:
        return "symbolic link"
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return "special file (fifo, socket or device)"
    if info.flag_bits & 0x1:
        return "encrypted member"
    return None


def _parts(name):
    return [part for part in re.split(r"[/\\]", name) if part not in ("", ".")]


class SafeExtractor(ExtractorPlugin):
    """nbgrader zip_collect's extractor, safe for untrusted exports (see course/safe_extract.py).
    After extract(): `refused` lists (path in the export, reason); `origin` maps each extracted
    file to its path in the export."""

    zip_ext = List([".zip"], help="File name endings of archives to unpack (zip only: tar "
                                  "archives from an LMS are not expected)").tag(config=True)
    max_member_bytes = Integer(100 * 2**20, help="Largest file taken from an archive "
                                                 "(bytes, as the archive declares it)").tag(config=True)
    max_total_bytes = Integer(2 * 2**30, help="Most bytes unpacked from one export").tag(config=True)
    max_members = Integer(20000, help="Most files unpacked from one export").tag(config=True)
    max_depth = Integer(2, help="Archives inside archives unpacked down to this depth (1: only "
                                "the export itself; 2: also a zip a student uploaded)").tag(config=True)

    def extract(self, archive_path, extracted_path):
        """Unpack every zip in `archive_path` into its own folder of `extracted_path` and copy
        the other regular files; refuse (and record in `refused`) everything else."""
        self.refused, self.origin = [], {}
        self._total_bytes, self._count = 0, 0
        extracted = Path(extracted_path)
        for path, relative, problem in regular_files(archive_path):
            if problem:
                self._refuse(relative, problem)
            elif path.suffix.lower() in self.zip_ext:
                # The export's own zip: its members are named as in it ("kimminji_12345_...");
                # a zip in a subfolder of an export folder: under that folder's path.
                inside = "" if "/" not in relative else relative[: -len(path.suffix)] + "/"
                self._unzip(path, extracted / relative[: -len(path.suffix)], inside, 1, relative)
            else:
                self._copy(path, extracted / relative, relative)

    # ---- helpers ------------------------------------------------------------------------

    def _refuse(self, where, reason):
        where = printable(where)
        self.log.warning("Refused %s: %s", where, reason)
        self.refused.append((where, reason))

    def _budget(self, where, size):
        """Count one more file of `size` bytes; False (and refused) when over a limit."""
        if self._count + 1 > self.max_members:
            self._refuse(where, f"more than {self.max_members} files in the export: not unpacked")
            return False
        if size > self.max_member_bytes:
            self._refuse(where, f"{size} bytes is over the limit of {self.max_member_bytes} "
                                "(c.SafeExtractor.max_member_bytes)")
            return False
        if self._total_bytes + size > self.max_total_bytes:
            self._refuse(where, f"the export unpacks to over {self.max_total_bytes} bytes "
                                "(c.SafeExtractor.max_total_bytes): not unpacked")
            return False
        self._count += 1
        self._total_bytes += size
        return True

    def _new_file(self, target, where):
        """A file object for a new file at `target`; None (and refused) if it cannot be made
        without overwriting or following anything."""
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError:
            self._refuse(where, "its folder clashes with a file of the same name in the export")
            return None
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        except FileExistsError:
            self._refuse(where, "a second file of the same name in the export")
            return None
        except OSError as error:
            self._refuse(where, f"cannot be written ({error.strerror or error})")
            return None
        return os.fdopen(fd, "wb")

    def _copy(self, path, target, where):
        """Copy a file found next to the archives; opened without following a link, in case
        it was swapped for one since it was listed."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError as error:
            self._refuse(where, f"unreadable ({error.strerror or error})")
            return
        with os.fdopen(fd, "rb") as source:
            info = os.fstat(source.fileno())
            if not stat.S_ISREG(info.st_mode):
                self._refuse(where, "not a regular file")
                return
            if not self._budget(where, info.st_size):
                return
            handle = self._new_file(target, where)
            if handle is None:
                return
            with handle:
                shutil.copyfileobj(source, handle, CHUNK)
        os.utime(target, (info.st_atime, info.st_mtime))
        self.origin[str(target)] = where

    def _unzip(self, path, dest, inside, depth, label):
        """Unpack zip `path` (called `label` in the export) into folder `dest`; `inside` is the
        prefix of its members' paths in the export."""
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as error:
            self._refuse(label, f"not a readable zip ({error})")
            return
        with archive:
            for info in archive.infolist():
                name = _member_name(info)
                member = inside + name
                problem = member_problem(info, name)
                if problem:
                    self._refuse(member, problem)
                    continue
                parts = _parts(name)
                if not parts or info.is_dir() or stat.S_ISDIR(info.external_attr >> 16):
                    continue
                target = dest.joinpath(*parts)
                member = inside + "/".join(parts)
                if target.suffix.lower() in self.zip_ext:
                    self._nested(archive, info, target, member, depth)
                    continue
                if not self._budget(member, info.file_size):
                    continue
                self._write_member(archive, info, target, member)

    def _write_member(self, archive, info, target, member):
        handle = self._new_file(target, member)
        if handle is None:
            return
        try:
            with handle, archive.open(info) as source:
                shutil.copyfileobj(source, handle, CHUNK)
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as error:
            target.unlink(missing_ok=True)
            self._refuse(member, f"unreadable member ({error})")
            return
        try:  # the member's time, which orders two uploads when the name has none
            mtime = time.mktime(info.date_time + (0, 0, -1))
            os.utime(target, (mtime, mtime))
        except (OverflowError, ValueError, OSError):
            pass
        self.origin[str(target)] = member

    def _nested(self, archive, info, target, member, depth):
        """A zip inside the export (a student's upload): unpacked into its own folder."""
        if depth >= self.max_depth:
            self._refuse(member, f"an archive nested {depth + 1} deep is not unpacked "
                                 "(c.SafeExtractor.max_depth)")
            return
        if not self._budget(member, info.file_size):
            return
        with tempfile.TemporaryDirectory() as scratch:
            copy = Path(scratch) / "nested.zip"
            try:
                with archive.open(info) as source, open(copy, "wb") as handle:
                    shutil.copyfileobj(source, handle, CHUNK)
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as error:
                self._refuse(member, f"unreadable member ({error})")
                return
            folder = target.with_suffix("")
            self._unzip(copy, folder, member[: -len(target.suffix)] + "/", depth + 1, member)
