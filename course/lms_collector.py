"""nbgrader zip_collect's collector plugin for LMS exports (c.LmsCollect in nbgrader_config.py).

nbgrader's FileNameCollectorPlugin names one file at a time with the instructor's regexp and
leaves two uploads of one student to timestamps it often does not have. LmsCollect adds ready
file-name patterns of Canvas, Moodle and Blackboard, a roster from LMS accounts to student ids
(course.roster), renamed copies of the notebook, and one decision per student made over all the
files at once: the latest upload by the LMS's time, upload number or file time is taken, and
every file not taken gets a Row saying why.
"""
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from nbgrader.plugins import FileNameCollectorPlugin
from nbgrader.utils import parse_utc
from traitlets import Unicode

from course.errors import CourseError
from course.paths import step_folder
from course.roster import Roster, unsafe_student_id
from course.safe_extract import regular_files

# Named groups: who (lms_id, lms_name, or student_id), which file (file_id), and optionally when
# (timestamp) or in what order (attempt: a number that grows with each upload). Matched with
# re.match against the extracted file's absolute path, as nbgrader's named_regexp is.
PATTERNS = {
    # <sortable name>[_LATE]_<user id>_<attachment id>_<file name>  (Canvas, lib/content_zipper.rb;
    # the attachment id grows with each upload; "_LATE" marks a late submission)
    "canvas": r"^(?:.*/)?(?P<lms_name>[^/]+?)(?P<late>_LATE)?_(?P<lms_id>\d+)_(?P<attempt>\d+)"
              r"_(?P<file_id>.+)$",
    # <Full Name>_<participant id>_assignsubmission_file_/<file name> (folders, Moodle >= 3.1;
    # no trailing "_" from 4.1), or ..._assignsubmission_file_<file name> without folders
    "moodle": r"^(?:.*/)?(?P<lms_name>[^/_]+)_(?P<lms_id>\d+)_assignsubmission_file(?:_?/|_)"
              r"(?P<file_id>.+)$",
    # <Assignment>_<username>_attempt_<yyyy-mm-dd-hh-mm-ss>_<file name>  (Blackboard Learn; the
    # attempt's receipt <Assignment>_<username>_attempt_<time>.txt is not a notebook)
    "blackboard": r"^(?:.*/)?(?P<assignment>[^/]+)_(?P<lms_id>[^_/]+)_attempt_"
                  r"(?P<timestamp>\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)_(?P<file_id>[^/]+)$",
}
TIMESTAMP_FORMATS = ("%Y-%m-%d-%H-%M-%S",)  # Blackboard's; anything else goes to nbgrader's parser

# What browsers, Google Drive/Colab, Windows, macOS and Canvas do to a file name when a copy is
# made or a name is taken: "Copy of X", "X (1)", "X - Copy", "X copy 2", "X-1".
COPY_MARKS = [re.compile(p, re.IGNORECASE) for p in (
    r"^copy of\s+", r"^사본\s*-\s*", r"\s*-\s*copy(?:\s*\(\d+\))?$", r"\s+copy(?:\s+\d+)?$",
    r"\s*\(\d+\)$", r"-\d+$", r"의\s*사본$")]


class CollectError(CourseError):
    """The export cannot be collected (unreadable, lesson not released, nbgrader failed)."""


@dataclass
class Row:
    """One file of the export and what became of it."""
    source: str               # its path in the export
    student_id: str = ""
    outcome: str = "skipped"  # taken, skipped, refused
    reason: str = ""
    when: str = ""            # the LMS's time or upload number, if the name has one
    lms_prefix: str = ""      # its path in the export up to the file name (feedback goes there)


def notebook_name(file_id, lesson):
    """(name, renamed) if the uploaded file is the lesson's notebook, perhaps a renamed copy of
    it ("Copy of 01_parameters.ipynb", "01_parameters (1).ipynb"), else (None, False)."""
    base = file_id.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, extension = base.rpartition(".")
    if not dot or extension.lower() != "ipynb":
        return None, False
    name = stem.strip()
    while True:
        shorter = name
        for mark in COPY_MARKS:
            shorter = mark.sub("", shorter).strip()
        if shorter == name:
            break
        name = shorter
    if name.casefold() != lesson.casefold():
        return None, False
    return f"{lesson}.ipynb", base != f"{lesson}.ipynb"


def parse_timestamp(text):
    """A datetime from the time in a file name (Blackboard's 2026-11-30-10-00-00, or any form
    nbgrader reads). Raises ValueError."""
    for form in TIMESTAMP_FORMATS:
        try:
            return datetime.strptime(text, form)
        except ValueError:
            pass
    try:
        return parse_utc(text)
    except (ValueError, OverflowError) as error:
        raise ValueError(f"unreadable time {text!r} in the file name") from error


class LmsCollect(FileNameCollectorPlugin):
    """nbgrader zip_collect's collector for LMS exports: a ready file-name pattern, a roster, and
    one file per student (the latest upload); every other file is reported with its reason."""

    pattern = Unicode("canvas", help="File-name layout of the export: canvas, moodle, blackboard, "
                                     "or custom (then set named_regexp)").tag(config=True)
    roster = Unicode("roster.csv", help="CSV of student_id,lms_id,lms_name, relative to the course "
                                        "directory; empty: the LMS's id is the student id").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.rows = None     # the table, once planned
        self._chosen = {}    # extracted path -> what nbgrader is told about it

    # ---- settings -------------------------------------------------------------------------

    def regexp(self):
        if self.pattern == "custom":
            if not self.named_regexp:
                raise CollectError("c.LmsCollect.pattern is 'custom' but c.LmsCollect.named_regexp "
                                   "is not set")
            regexp = self.named_regexp
        elif self.pattern in PATTERNS:
            if self.named_regexp:
                raise CollectError(f"c.LmsCollect.named_regexp is set but pattern is "
                                   f"{self.pattern!r}: set pattern = 'custom' to use your own")
            regexp = PATTERNS[self.pattern]
        else:
            raise CollectError(f"unknown c.LmsCollect.pattern {self.pattern!r}: "
                               f"{', '.join(PATTERNS)} or custom")
        try:
            compiled = re.compile(regexp)
        except re.error as error:
            raise CollectError(f"the file-name pattern does not compile: {error}") from None
        if "file_id" not in compiled.groupindex or not {"student_id", "lms_id", "lms_name"} & set(
                compiled.groupindex):
            raise CollectError("a file-name pattern needs the named groups file_id and one of "
                               "student_id, lms_id, lms_name")
        return compiled

    def load_roster(self, root):
        if not self.roster:
            return Roster(None)
        path = Path(self.roster)
        return Roster.load(path if path.is_absolute() else Path(root) / path)

    # ---- nbgrader's plugin interface ------------------------------------------------------

    def collect(self, submitted_file):
        """What nbgrader should do with one extracted file: {student_id, file_id[, timestamp]}
        for the file taken for a student, None for any other. Under plain `nbgrader zip_collect`
        the first call plans over all extracted files."""
        if self.rows is None:
            app = self.parent
            self.plan(app._format_collect_path(app.extracted_directory),
                      origin=getattr(app.extractor_plugin_inst, "origin", {}))
        info = self._chosen.get(str(submitted_file))
        return dict(info) if info else None

    def plan(self, extracted, origin=None):
        """Decide for every file under `extracted` (the unpacked export) which student it is
        and whether it is taken, for the lesson and course of the parent ZipCollectApp (whose
        `force` replaces submissions already in submitted/). Returns the rows; nbgrader's later
        collect() calls follow it. `origin` maps extracted files to their paths in the export
        (SafeExtractor.origin). Raises CollectError or RosterError for the settings."""
        coursedir, force = self.parent.coursedir, self.parent.force
        regexp, roster = self.regexp(), self.load_roster(coursedir.root)
        origin = origin or {}
        self.rows, self._chosen = [], {}
        candidates = {}
        for path in sorted(str(p) for p, _, problem in regular_files(extracted) if not problem):
            source = origin.get(path) or os.path.relpath(path, extracted)
            row = Row(source)
            self.rows.append(row)
            candidate = self._identify(path, source, row, regexp, roster, coursedir.assignment_id)
            if candidate:
                candidates.setdefault(row.student_id, []).append(candidate)
        for student_id, found in candidates.items():
            submitted = step_folder(coursedir, coursedir.submitted_directory, student_id,
                                    coursedir.assignment_id)
            self._choose(submitted, found, force)
        self.rows.sort(key=lambda r: r.source)
        return self.rows

    def _identify(self, path, source, row, regexp, roster, lesson):
        """Fill `row` for one file; return a Candidate if it could be taken."""
        _, extension = os.path.splitext(path)
        if extension.lower() not in self.valid_ext:
            row.reason = "not a notebook"
            return None
        match = regexp.match(path)
        if not match:
            row.reason = f"the name does not follow the {self.pattern} layout"
            return None
        groups = {k: v for k, v in match.groupdict().items() if v}
        student, why = roster.find(lms_id=groups.get("lms_id"), lms_name=groups.get("lms_name"),
                                   student_id=groups.get("student_id"))
        if student is None:
            row.reason = why
            return None
        problem = unsafe_student_id(student.student_id)
        if problem:
            row.reason = problem
            return None
        owner = self._owner(source, regexp, roster)
        if owner is not None and owner.student_id != student.student_id:
            row.reason = (f"inside the upload of {owner.student_id}, but named for {student.student_id}: "
                          "a file in one student's upload never counts for another")
            return None
        row.student_id = student.student_id
        name, renamed = notebook_name(groups.get("file_id", ""), lesson)
        if name is None:
            row.reason = f"a notebook not named {lesson}.ipynb"
            return None
        info = {"student_id": student.student_id, "file_id": name}
        timestamp, attempt = datetime.min, -1
        if "timestamp" in groups:
            try:
                info["timestamp"] = timestamp = parse_timestamp(groups["timestamp"])
            except ValueError as error:
                row.reason = str(error)
                return None
            row.when = timestamp.isoformat(" ")
        if "attempt" in groups:
            attempt = int(groups["attempt"])
            row.when = f"upload {attempt}"
        start = match.start("file_id") - (len(path) - len(source))
        row.lms_prefix = source[:start] if start > 0 else ""
        row.reason = _join("renamed copy" if renamed else "",
                           "late (the LMS says)" if groups.get("late") else "")
        return Candidate((timestamp, attempt, os.stat(path).st_mtime, source), row, info, path)

    @staticmethod
    def _owner(source, regexp, roster):
        """The student whose upload holds `source` (its path in the export): the outermost folder
        on the path (an LMS folder, or a zip the student uploaded, unpacked) that names one; None
        where no folder does."""
        parts = source.split("/")
        for depth in range(1, len(parts)):
            match = regexp.match("/" + "/".join(parts[:depth]) + "/x.ipynb")
            if match:
                groups = {k: v for k, v in match.groupdict().items() if v}
                owner, _ = roster.find(lms_id=groups.get("lms_id"), lms_name=groups.get("lms_name"),
                                       student_id=groups.get("student_id"))
                if owner is not None:
                    return owner
        return None

    def _choose(self, submitted, candidates, force):
        """The latest upload of a student is taken; the others are reported. `submitted` is
        the student's folder for the lesson in submitted/."""
        candidates.sort(key=lambda c: c.order)
        latest, older = candidates[-1], candidates[:-1]
        ties = (("the LMS's time", 0), ("the LMS's upload number", 1),
                ("the file time in the export", 2), ("name (no time to tell them apart)", 3))
        for basis, index in ties:  # noqa: B007 (after the loop, basis names what decided)
            if any(c.order[index] != latest.order[index] for c in older):
                break
        for other in older:
            other.row.reason = _join(f"older upload: {latest.row.source} is later by {basis}",
                                     other.row.reason)
        if submitted.exists() and not force:
            where = Path(os.path.relpath(submitted, self.parent.coursedir.root)).as_posix()
            latest.row.reason = _join(latest.row.reason, f"{where}/ exists; --force "
                                                         "replaces it")
            return
        latest.row.outcome = "taken"
        self._chosen[latest.path] = latest.info


@dataclass
class Candidate:
    order: tuple  # (LMS time, LMS upload number, file time, path in the export)
    row: Row
    info: dict    # what nbgrader is told
    path: str     # the extracted file


def _join(*parts):
    return "; ".join(p for p in parts if p)
