"""What a grading job on another machine needs, as bytes, and what it sends back.

A Dask worker shares no disk with the instructor. It gets a LessonKit per lesson (the course's
nbgrader_config.py, the lesson's source and release notebooks, and a small SQLite gradebook
holding only the lesson's assignment) and a Submission per job (the top level of the student's
folder in submitted/, as the intake would find it). It sends back a Graded: the job's Result,
the files of the autograded and feedback folders, and the submission's grades as plain data.
"""
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from course.gradebook import gradebook
from course.gradebook_transfer import assignment_only_gradebook
from course.intake import shared_with
from course.nbgrader_api import course_directory
from course.paths import notebook, step_folder, step_root
from course.untrusted import NotRegularFile, is_real_folder, lexists, read_regular

# Files of a submission folder whose content the intake reads; of the others it reads only the
# name (an extra file is a note), so they travel empty.
READ_BY_INTAKE = ("*.ipynb", "timestamp.txt")


@dataclass
class LessonKit:
    """One lesson, as bytes: enough for a worker to make a scratch course that grades it."""
    lesson: str
    course_id: str
    config: bytes  # nbgrader_config.py
    source: bytes  # source/<lesson>/<lesson>.ipynb
    release: bytes  # release/<lesson>/<lesson>.ipynb
    gradebook: bytes  # an SQLite gradebook with the lesson's assignment and no student


@dataclass
class Entry:
    """One entry at the top level of a submission folder: kind "file" (with its bytes, or empty
    where the intake reads only its name; `links`: its number of hard links), "folder",
    "symlink" or "special" (a named pipe, socket or device)."""
    name: str
    kind: str
    data: bytes = b""
    links: int = 1


@dataclass
class Submission:
    """A student's folder of one lesson in submitted/: `folder` is "absent", "link" (the folder,
    or one above it, is a symlink: the intake refuses it) or "folder" with its `entries`."""
    student: str
    lesson: str
    folder: str
    entries: list = field(default_factory=list)
    sharing: list = field(default_factory=list)  # students whose submission is the same file


@dataclass
class Graded:
    """What a job sends back: its Result, {relative path: bytes} of the autograded and the
    feedback folder, and the submission's grades (gradebook_transfer.submission_record, or None
    where nothing was autograded)."""
    result: object
    autograded: dict
    feedback: dict
    record: object


def lesson_kit(root, lesson, coursedir=None):
    """The LessonKit of a released lesson of the course at `root`. Raises MissingEntry where the
    gradebook does not know the lesson, OSError where a file cannot be read."""
    coursedir = coursedir or course_directory(root)
    source = notebook(coursedir, coursedir.source_directory, ".", lesson).read_bytes()
    release = notebook(coursedir, coursedir.release_directory, ".", lesson).read_bytes()
    with tempfile.TemporaryDirectory(prefix="course-kit-") as scratch:
        path = Path(scratch) / "gradebook.db"
        with gradebook(root, coursedir) as gb:
            assignment_only_gradebook(gb, lesson, f"sqlite:///{path}", coursedir.course_id)
        data = path.read_bytes()
    return LessonKit(lesson, coursedir.course_id, (Path(root) / "nbgrader_config.py").read_bytes(),
                     source, release, data)


def pack_submission(coursedir, student, lesson):
    """The Submission of `student`'s `lesson` folder in submitted/, read without following any
    link or opening anything but regular files (course.untrusted)."""
    base = step_root(coursedir, coursedir.submitted_directory)
    folder = step_folder(coursedir, coursedir.submitted_directory, student, lesson)
    if not lexists(folder):
        return Submission(student, lesson, "absent")
    if not is_real_folder(folder, base):
        return Submission(student, lesson, "link")
    entries, sharing = [], []
    for item in sorted(os.scandir(folder), key=lambda item: item.name):
        mode = item.stat(follow_symlinks=False)
        if stat.S_ISREG(mode.st_mode) and mode.st_nlink > 1 and item.name.endswith(".ipynb"):
            # As the local intake: a file linked from outside submitted/ is never read (the
            # worker gets its name and number of links, and refuses it as the intake here
            # would); one shared with other students is sent as a file of its own, and the
            # Result comes back flagged (course.engine).
            try:
                others, names = shared_with(coursedir, Path(item.path), student)
            except NotRegularFile:
                entries.append(Entry(item.name, "file", b"", mode.st_nlink))
                continue
            sharing += others
            entries.append(Entry(item.name, "file", read_regular(item.path, names=names)))
        elif stat.S_ISREG(mode.st_mode):
            wanted = any(Path(item.name).match(pattern) for pattern in READ_BY_INTAKE)
            entries.append(Entry(item.name, "file", read_regular(item.path) if wanted else b"",
                                 mode.st_nlink))
        elif stat.S_ISDIR(mode.st_mode):
            entries.append(Entry(item.name, "folder"))
        elif stat.S_ISLNK(mode.st_mode):
            entries.append(Entry(item.name, "symlink"))
        else:
            entries.append(Entry(item.name, "special"))
    return Submission(student, lesson, "folder", entries, sorted(set(sharing)))


def unpack_submission(submission, coursedir, scratch):
    """Make the Submission's folder in the submitted/ of the scratch course `coursedir`, as the
    intake would find it on the instructor's disk: a symlink (to /dev/null) where it met a
    symlink, a named pipe for a special file, an extra hard link (in `scratch`, outside the
    course) for a file that had one."""
    folder = step_folder(coursedir, coursedir.submitted_directory, submission.student, submission.lesson)
    if submission.folder == "absent":
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    if submission.folder == "link":
        elsewhere = Path(scratch) / "linked-folder"
        elsewhere.mkdir()
        folder.symlink_to(elsewhere)
        return
    folder.mkdir()
    links = Path(scratch) / "hard-links"
    for number, entry in enumerate(submission.entries):
        path = folder / entry.name
        if entry.kind == "file":
            path.write_bytes(entry.data)
            if entry.links > 1:
                links.mkdir(exist_ok=True)
                os.link(path, links / str(number))
        elif entry.kind == "folder":
            path.mkdir()
        elif entry.kind == "symlink":
            path.symlink_to("/dev/null")
        else:
            os.mkfifo(path)


def folder_files(folder):
    """{path relative to `folder`: bytes} of the regular files under it ({} if it is absent)."""
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    return {str(path.relative_to(folder)): read_regular(path)
            for path in sorted(folder.rglob("*")) if path.is_file() and not path.is_symlink()}


def write_files(folder, files):
    """Write {relative path: bytes} into `folder` (made here); ValueError for a path that would
    leave it (absolute, or with ..)."""
    folder = Path(folder)
    for relative, data in files.items():
        parts = Path(relative).parts
        if Path(relative).is_absolute() or ".." in parts or not parts:
            raise ValueError(f"refusing to write {relative!r} outside {folder}")
        path = folder.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
