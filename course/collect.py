"""`course collect LESSON EXPORT`: an LMS's "download all submissions" zip (or its unzipped
folder) into submitted/<student>/<lesson>/<lesson>.ipynb, through nbgrader's zip_collect.

nbgrader's ZipCollectApp does the work in its layout: the export is copied to
downloaded/<lesson>/archive/, unpacked into downloaded/<lesson>/extracted/ by its extractor
plugin (course.safe_extract.SafeExtractor), each extracted file is named to a student by its
collector plugin (course.lms_collector.LmsCollect) and copied to submitted/ (with timestamp.txt
when the LMS put a time in the file name). The table of every file of the export, taken,
skipped or refused and why, is printed by the command and written to
downloaded/<lesson>/collect.csv, which `course export feedback` reads back.
"""
import csv
import logging
import os
import shutil
import zipfile
from contextlib import contextmanager
from dataclasses import asdict, fields
from pathlib import Path

from nbgrader.apps import ZipCollectApp
from nbgrader.coursedir import CourseDirectory

from course.lms_collector import CollectError, LmsCollect, Row
from course.nbgrader_api import load_config
from course.paths import release_notebook
from course.safe_extract import SafeExtractor, regular_files

__all__ = ["CollectError", "Row", "collect", "collect_app", "read_record", "record_path",
           "table_text"]
RECORD = "collect.csv"


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
    config = config or load_config(root)
    settings = config.ZipCollectApp
    settings.setdefault("extractor_plugin", SafeExtractor)
    settings.setdefault("collector_plugin", LmsCollect)
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = lesson
    # A logger of its own: an Application making its default one reconfigures logging for the
    # whole process (traitlets' dictConfig closes every handler there is).
    log = logging.getLogger("course.collect.zip_collect")
    log.propagate = False
    app = ZipCollectApp(coursedir=coursedir, config=config, log=log)
    if not issubclass(app.extractor_plugin, SafeExtractor):
        raise CollectError("c.ZipCollectApp.extractor_plugin must be course.safe_extract."
                           "SafeExtractor (or a subclass): nbgrader's own is not safe for exports")
    if not issubclass(app.collector_plugin, LmsCollect):
        raise CollectError("c.ZipCollectApp.collector_plugin must be course.lms_collector."
                           "LmsCollect (or a subclass) for `course collect`")
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
    collector = app.collector_plugin(parent=app)  # its settings are checked before files move
    collector.regexp()
    collector.load_roster(root)
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
            rows += app.collector_plugin_inst.plan(extracted, app.extractor_plugin_inst.origin)
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
