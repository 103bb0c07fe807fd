"""`course export feedback | grades LESSON`: the results of one lesson back out to the LMS.

- Feedback: nbgrader's feedback pages (feedback/<student>/<lesson>/) zipped one zip per
  student (exports/<lesson>/feedback/<student>.zip), or one zip for the LMS's "upload
  feedback files" import (exports/<lesson>/<lesson>_feedback_upload.zip), where each page is
  named like the file the student uploaded (the path `course collect` recorded up to the file
  name: Canvas's "kimminji_12345_67890_", Moodle's "Minji Kim_12345_assignsubmission_file_/"),
  which is how those LMSs tell whose feedback it is.
- Grades: a CSV in the layout the LMS gradebook imports (c.LmsExport.grade_columns), written
  next to nbgrader's grades.csv, with the same score (after any late penalty) for each student.
"""
import csv
import shutil
import zipfile
from pathlib import Path

from nbgrader.api import MissingEntry
from nbgrader.coursedir import CourseDirectory
from traitlets import Dict, Enum, Unicode
from traitlets.config import Configurable

from course.collect import read_record, record_path
from course.errors import CourseError
from course.gradebook import gradebook, is_withheld
from course.lms_collector import LmsCollect
from course.nbgrader_api import load_config
from course.paths import step_folder, students_with
from course.roster import Roster
from course.safe_extract import regular_files

FIELDS = ("student_id", "lms_id", "lms_name", "score", "max_score", "")
EXPORTS = "exports"


class ExportError(CourseError):
    """Nothing to export, or the settings cannot be followed."""


class LmsExport(Configurable):
    """Settings of `course export` (nbgrader_config.py, c.LmsExport)."""

    feedback_layout = Enum(["students", "lms"], "students", help="students: one zip per student; "
                           "lms: one zip for the LMS's upload-feedback import").tag(config=True)
    grades_file = Unicode("grades_{lesson}_lms.csv", help="The grade CSV, relative to the course "
                                                          "directory").tag(config=True)
    grade_columns = Dict({"student_id": "student_id", "{lesson}": "score"},
                         help="{column header: student_id, lms_id, lms_name, score, max_score or "
                              "'' (empty)}, in order; '{lesson}' in a header is the lesson id"
                         ).tag(config=True)


def _settings(root):
    config = load_config(root)
    return config, LmsExport(config=config), CourseDirectory(config=config)


def _roster(root, config, roster):
    """The roster `course collect` uses (c.LmsCollect.roster), or the one given."""
    if roster is None:
        roster = LmsCollect(config=config).roster
    if not roster:
        return Roster(None)
    path = Path(roster)
    return Roster.load(path if path.is_absolute() else Path(root) / path)


def _pages(coursedir, student, lesson):
    """(path, name in the zip) of a student's feedback files for a lesson (regular files only)."""
    folder = step_folder(coursedir, coursedir.feedback_directory, student, lesson)
    if not folder.is_dir():
        return []
    return [(path, relative) for path, relative, problem in regular_files(folder) if not problem]


def _fresh(path):
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    return path


def export_feedback(root, lesson, layout=None):
    """Zip the feedback pages of one lesson; `layout` overrides c.LmsExport.feedback_layout.
    Returns (zip paths written, notes on students left out). Raises ExportError when there is
    no feedback, or (layout "lms") no record of `course collect` to name the pages after."""
    root = Path(root).resolve()
    _, settings, coursedir = _settings(root)
    layout = layout or settings.feedback_layout
    feedback = f"{coursedir.feedback_directory}/"
    out = root / EXPORTS / lesson
    notes = []
    # A submission flagged for review may have printed what the checks hold (hidden tests
    # included) into its page: the page goes out only once `course review` accepts it.
    students = students_with(coursedir, coursedir.feedback_directory, lesson)
    with gradebook(root) as gb:
        held = {student for student in students if is_withheld(gb, lesson, student)}
    notes += [f"{student}: flagged for review, feedback held until `course review`" for student in sorted(held)]
    students = [student for student in students if student not in held]
    if layout == "students":
        folder = _fresh(out / "feedback")
        folder.mkdir(parents=True)
        written = []
        for student in students:
            pages = _pages(coursedir, student, lesson)
            if not pages:
                notes.append(f"{student}: no feedback page")
                continue
            written.append(_zip(folder / f"{student}.zip", pages))
        if not written:
            raise ExportError(f"no feedback for {lesson} in {feedback}: run "
                              "`course grade` first")
        return written, notes
    if layout != "lms":
        raise ExportError(f"unknown feedback layout {layout!r}: students or lms")
    taken = [row for row in read_record(record_path(root, lesson)) if row.outcome == "taken"]
    if not taken:
        raise ExportError(f"no submissions of {lesson} collected by `course collect` "
                          f"({record_path(root, lesson)}): the LMS layout names each page after "
                          "the student's upload; use --layout students")
    entries = []
    for row in taken:
        if row.student_id in held:
            continue
        pages = _pages(coursedir, row.student_id, lesson)
        if not pages:
            notes.append(f"{row.student_id}: no feedback page (not graded?)")
            continue
        prefix = row.lms_prefix or f"{row.student_id}/"
        entries += [(path, prefix + name) for path, name in pages]
    for student in sorted(set(students) - {row.student_id for row in taken} - held):
        notes.append(f"{student}: has feedback but was not collected from the LMS: left out")
    if not entries:
        raise ExportError(f"none of the collected submissions of {lesson} has feedback: run "
                          "`course grade` first")
    upload = out / f"{lesson}_feedback_upload.zip"
    out.mkdir(parents=True, exist_ok=True)
    return [_zip(_fresh(upload), entries)], notes


def _zip(path, entries):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for source, name in entries:
            archive.write(source, name)
    return path


def grade_rows(root, lesson, roster=None):
    """(header, rows, notes) of the LMS grade CSV of one lesson: every student with a
    submission in the gradebook (score as in nbgrader's grades.csv: after the late penalty, at
    least 0) and every roster student without one (empty score: the LMS keeps what it has).
    A student the roster does not know is left out (noted) when a column needs their LMS id
    or name. Raises ExportError, or RosterError for the roster."""
    root = Path(root).resolve()
    config, settings, _ = _settings(root)
    roster = _roster(root, config, roster)
    unknown = sorted({what for what in settings.grade_columns.values()} - set(FIELDS))
    if unknown:
        raise ExportError(f"c.LmsExport.grade_columns: {', '.join(map(repr, unknown))} is not "
                          f"one of {', '.join(map(repr, FIELDS))}")
    needs_lms = {"lms_id", "lms_name"} & set(settings.grade_columns.values())
    with gradebook(root) as gb:
        try:
            assignment = gb.find_assignment(lesson)
        except MissingEntry:
            raise ExportError(f"{lesson} is not in the gradebook: release and grade it "
                              "first") from None
        maximum = assignment.max_score
        scores, withheld = {}, set()
        for submission in assignment.submissions:
            penalty = submission.late_submission_penalty or 0.0
            scores[submission.student.id] = max(0.0, submission.score - penalty)
            if any(notebook.flagged for notebook in submission.notebooks):
                withheld.add(submission.student.id)  # until `course review`
    students = sorted(set(scores) | {s.student_id for s in roster.students or []})
    notes = [f"{student}: flagged for review, score left empty until `course review`"
             for student in sorted(withheld)]
    header = [title.replace("{lesson}", lesson) for title in settings.grade_columns]
    rows = []
    for student_id in students:
        entry = roster.get(student_id) if roster.enabled else None
        if roster.enabled and entry is None and needs_lms:
            notes.append(f"{student_id}: graded but not in the roster, so no LMS id: left out")
            continue
        values = {
            "student_id": student_id,
            "lms_id": entry.lms_id if entry else student_id,
            "lms_name": entry.lms_name if entry else "",
            "score": format(scores[student_id], "g") if student_id in scores.keys() - withheld else "",
            "max_score": format(maximum, "g"),
            "": "",
        }
        rows.append([values[what] for what in settings.grade_columns.values()])
    return header, rows, notes


def export_grades(root, lesson, roster=None):
    """Write the LMS grade CSV of one lesson (c.LmsExport.grades_file). Returns (path, header,
    rows, notes); see grade_rows."""
    root = Path(root).resolve()
    _, settings, _ = _settings(root)
    header, rows, notes = grade_rows(root, lesson, roster)
    path = root / settings.grades_file.replace("{lesson}", lesson)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path, header, rows, notes
