"""`course collect LESSON EXPORT`: an LMS's "download all submissions" zip (or its unzipped
folder) into submitted/<student>/<lesson>/<lesson>.ipynb, through nbgrader's zip_collect.

nbgrader's ZipCollectApp does the work in its layout: the export is copied to
downloaded/<lesson>/archive/, unpacked into downloaded/<lesson>/extracted/ by its extractor
plugin (course.safe_extract.SafeExtractor), each extracted file is named to a student by its
collector plugin (LmsCollect, below) and copied to submitted/ (with timestamp.txt when the LMS
put a time in the file name). LmsCollect adds what nbgrader's FileNameCollectorPlugin lacks:
ready file-name patterns of Canvas, Moodle and Blackboard, a roster from LMS accounts to
student ids (course.roster), renamed copies of the notebook accepted, and one decision per
student made over all files at once (the latest upload is taken, the others reported), with
the reason for every file it does not take. The table of all files is printed by the command
and written to downloaded/<lesson>/collect.csv, which `course export feedback` reads back.
"""
import csv
import logging
import os
import re
import shutil
import zipfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path

from nbgrader.apps import ZipCollectApp
from nbgrader.coursedir import CourseDirectory
from nbgrader.plugins import FileNameCollectorPlugin
from nbgrader.utils import parse_utc
from traitlets import Unicode

from course.roster import Roster, unsafe_student_id
from course.safe_extract import regular_files

RECORD = "collect.csv"

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


class CollectError(Exception):
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
            self.plan(app.coursedir.root, app.coursedir.assignment_id,
                      app._format_collect_path(app.extracted_directory), force=app.force,
                      origin=getattr(app.extractor_plugin_inst, "origin", {}))
        info = self._chosen.get(str(submitted_file))
        return dict(info) if info else None

    def plan(self, root, lesson, extracted, force=False, origin=None):
        """Decide for every file under `extracted` (the unpacked export): which student it is
        and whether it is taken. Returns the rows; nbgrader's later collect() calls follow it.
        `origin` maps extracted files to their paths in the export (SafeExtractor.origin)."""
        regexp, roster = self.regexp(), self.load_roster(root)
        origin = origin or {}
        self.rows, self._chosen = [], {}
        candidates = {}
        for path in sorted(str(p) for p, _, problem in regular_files(extracted) if not problem):
            source = origin.get(path) or os.path.relpath(path, extracted)
            row = Row(source)
            self.rows.append(row)
            candidate = self._identify(path, source, row, regexp, roster, lesson)
            if candidate:
                candidates.setdefault(row.student_id, []).append(candidate)
        for student_id, found in candidates.items():
            self._choose(Path(root), lesson, student_id, found, force)
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

    def _choose(self, root, lesson, student_id, candidates, force):
        """The latest upload of a student is taken; the others are reported."""
        candidates.sort(key=lambda c: c.order)
        latest, older = candidates[-1], candidates[:-1]
        for basis, index in (("the LMS's time", 0), ("the LMS's upload number", 1),
                             ("the file time in the export", 2), ("name (no time to tell them "
                                                                  "apart)", 3)):
            if any(c.order[index] != latest.order[index] for c in older):
                break
        for other in older:
            other.row.reason = _join(f"older upload: {latest.row.source} is later by {basis}",
                                     other.row.reason)
        if (root / "submitted" / student_id / lesson).exists() and not force:
            latest.row.reason = _join(latest.row.reason, f"submitted/{student_id}/{lesson}/ "
                                                         "exists; --force replaces it")
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


# ---- `course collect` ------------------------------------------------------------------------

@contextmanager
def _captured(log):
    """nbgrader's log kept off the terminal while it runs (the table says what happened);
    its errors are returned for the exception message."""
    errors = []

    class Keep(logging.Handler):
        def emit(self, record):
            errors.append(record.getMessage())

    saved, level = log.handlers[:], log.level
    log.handlers = [Keep(logging.ERROR)]
    log.setLevel(logging.WARNING)
    try:
        yield errors
    finally:
        log.handlers, log.level = saved, level


def _copy_export(export, archive):
    """The export into nbgrader's archive folder: a zip as it is, a folder's regular files
    (links and special files are refused here, before nbgrader sees the folder)."""
    refused = []
    if export.is_dir():
        for path, relative, problem in regular_files(export):
            if problem:
                refused.append(Row(relative, outcome="refused", reason=problem))
                continue
            target = archive / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as source, open(target, "xb") as handle:
                shutil.copyfileobj(source, handle)
            shutil.copystat(path, target, follow_symlinks=False)
    elif export.is_file():
        if export.suffix.lower() != ".zip" or not zipfile.is_zipfile(export):
            raise CollectError(f"{export} is not a zip file (give the LMS's zip or its "
                               "unzipped folder)")
        shutil.copy2(export, archive / export.name)
    else:
        raise CollectError(f"{export} not found")
    return refused


def collect_app(root, lesson, config=None):
    """nbgrader's ZipCollectApp for one lesson of a course, with this course's plugins (the
    ones nbgrader_config.py names; SafeExtractor and LmsCollect where it names none)."""
    from course.nbgrader_api import load_config
    from course.safe_extract import SafeExtractor

    config = config or load_config(root)
    settings = config.ZipCollectApp
    settings.setdefault("extractor_plugin", SafeExtractor)
    settings.setdefault("collector_plugin", LmsCollect)
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = lesson
    app = ZipCollectApp(coursedir=coursedir, config=config)
    if not issubclass(app.extractor_plugin, SafeExtractor):
        raise CollectError("c.ZipCollectApp.extractor_plugin must be course.safe_extract."
                           "SafeExtractor (or a subclass): nbgrader's own is not safe for exports")
    if not issubclass(app.collector_plugin, LmsCollect):
        raise CollectError("c.ZipCollectApp.collector_plugin must be course.collect.LmsCollect "
                           "(or a subclass) for `course collect`")
    return app


def record_path(root, lesson):
    """Where `course collect` writes its table: next to nbgrader's archive/ and extracted/."""
    app = collect_app(root, lesson)
    return Path(app._format_collect_path(app.extracted_directory)).parent / RECORD


def collect(root, lesson, export, roster=None, pattern=None, force=False):
    """Collect one lesson's submissions from an LMS export (a zip or a folder) into
    submitted/<student>/<lesson>/<lesson>.ipynb with nbgrader's ZipCollectApp, configured by
    nbgrader_config.py (c.ZipCollectApp, c.SafeExtractor, c.LmsCollect); `roster` (a path, or
    "" for none) and `pattern` override c.LmsCollect.roster and .pattern; `force` replaces
    submissions already in submitted/. Returns a Row for every file in the export, also written
    to downloaded/<lesson>/collect.csv. Raises CollectError, or RosterError for the roster."""
    from course.nbgrader_api import load_config
    from course.paths import release_notebook

    root, export = Path(root).resolve(), Path(export).resolve()
    if not release_notebook(root, lesson).is_file():
        raise CollectError(f"{lesson} is not released: run `course release {lesson}` first")
    config = load_config(root)
    if roster is not None:
        config.LmsCollect.roster = str(Path(roster).resolve()) if roster else ""
    if pattern:
        config.LmsCollect.pattern = pattern
    config.ZipCollectApp.force = force
    app = collect_app(root, lesson, config)
    settings = app.collector_plugin(parent=app)  # the settings are checked before any file moves
    settings.regexp()
    settings.load_roster(root)
    archive = Path(app._format_collect_path(app.archive_directory))
    extracted = Path(app._format_collect_path(app.extracted_directory))
    for folder in (archive, extracted):
        if export == folder or folder in export.parents:
            raise CollectError(f"{export} is inside {folder}, which collect empties; move it")
        shutil.rmtree(folder, ignore_errors=True)
    archive.mkdir(parents=True)
    extracted.mkdir(parents=True)
    rows = _copy_export(export, archive)
    with _captured(app.log) as errors:
        try:
            app.init_plugins()
            app.extract_archive_files()
            rows += [Row(where, outcome="refused", reason=why)
                     for where, why in app.extractor_plugin_inst.refused]
            rows += app.collector_plugin_inst.plan(root, lesson, extracted, force=force,
                                                   origin=app.extractor_plugin_inst.origin)
            app.process_extracted_files()
        except SystemExit:  # nbgrader's app.fail()
            raise CollectError("nbgrader zip_collect failed: " + "; ".join(errors)) from None
    rows = sorted(rows, key=_table_order)
    write_record(extracted.parent / RECORD, rows)
    return rows


def write_record(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, [f.name for f in fields(Row)])
        writer.writeheader()
        writer.writerows(asdict(row) for row in rows)
    return path


def read_record(path):
    """The rows `course collect` wrote; [] if there is no record."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            return [Row(**row) for row in csv.DictReader(handle)]
    except FileNotFoundError:
        return []


def _table_order(row):
    return {"taken": 0, "skipped": 1, "refused": 2}.get(row.outcome, 3), row.source


def table_text(rows):
    """The rows as the table `course collect` prints: taken first, then skipped, refused."""
    lines = [("file", "student", "result", "why")] + [
        (r.source, r.student_id or "-", r.outcome, r.reason) for r in sorted(rows, key=_table_order)]
    widths = [max(len(line[i]) for line in lines) for i in range(3)]
    return "\n".join(("  ".join(cell.ljust(width) for cell, width in zip(line, widths)) + "  "
                      + line[3]).rstrip() for line in lines)
