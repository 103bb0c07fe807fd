"""Finding and taking in submissions before nbgrader sees them.

`find_submissions` lists the (student, lesson) pairs in submitted/; `take_in` finds and reads one
student's notebook and notes what the student did to the graded cells; `stage` writes the copy
nbgrader grades. submitted/ is only read, never changed.
"""
import json
import shutil
from collections import Counter
from dataclasses import dataclass, field

import nbformat

from course import cells
from course.nbgrader_api import make_api
from course.paths import lesson_ids, release_notebook, step_folder
from course.status import Note, Status

IGNORED_FILES = {"timestamp.txt", ".ipynb_checkpoints"}


@dataclass
class Intake:
    """One submission as taken in: its status (GRADED while it can still be graded), notes, and
    the notebook to grade (a cleaned copy), or None."""
    status: Status
    notes: list = field(default_factory=list)
    notebook: object = None


def find_submissions(root, students=None, lessons=None):
    """(student, lesson) pairs with a folder in submitted/, sorted, filtered by the names given."""
    api = make_api(root)
    pairs = []
    for lesson in lessons or lesson_ids(root):
        for student in sorted(api.get_submitted_students(lesson)):
            if not students or student in students:
                pairs.append((student, lesson))
    return sorted(pairs)


def _find_notebook(folder, lesson, notes):
    expected = folder / f"{lesson}.ipynb"
    if expected.is_file():
        return expected
    others = sorted(p for p in folder.glob("*.ipynb") if p.is_file())
    if len(others) == 1:
        notes.append(Note.RENAMED.say(others[0].name))
        return others[0]
    if others:
        notes.append(Note.SEVERAL_NOTEBOOKS.say(", ".join(p.name for p in others), lesson=lesson))
    return None


def _read(path, intake):
    raw = path.read_bytes()
    if not raw.strip():
        intake.status = Status.EMPTY
        intake.notes.append(Note.EMPTY_FILE.say())
        return None
    try:
        return nbformat.reads(raw.decode("utf-8"), as_version=4)
    except (UnicodeDecodeError, json.JSONDecodeError, nbformat.reader.NotJSONError) as error:
        problem = Note.NOT_JSON.say(str(error)[:80])
    except Exception as error:  # noqa: BLE001 (nbformat raises many kinds for a broken notebook)
        problem = Note.NOT_A_NOTEBOOK.say(type(error).__name__)
    intake.status = Status.CORRUPT
    intake.notes.append(problem)
    return None


def check_graded_cells(nb, released, notes):
    """Strip the nbgrader metadata nbgrader would trip over (an unknown or repeated grade_id),
    and note what the student changed, compared with the released notebook."""
    known = {cells.grade_id(c): c for c in released.cells if cells.grade_id(c)}
    seen = Counter()
    for cell in nb.cells:
        grade_id = cells.grade_id(cell)
        if grade_id is None:
            continue
        if grade_id not in known:
            cell.metadata.pop("nbgrader")
            notes.append(Note.UNKNOWN_GRADE_ID.say(grade_id))
            continue
        seen[grade_id] += 1
        if seen[grade_id] > 1:
            cell.metadata.pop("nbgrader")
            notes.append(Note.DUPLICATED_CELL.say(grade_id))
            continue
        original = known[grade_id]
        if cells.is_test(original) and cell.source != original.source:
            notes.append(Note.EDITED_LOCKED.say(grade_id))
    for grade_id, original in known.items():
        if not seen[grade_id]:
            deleted = Note.DELETED_TEST if cells.is_test(original) else Note.DELETED_CELL
            notes.append(deleted.say(grade_id))


def take_in(root, coursedir, student, lesson):
    """Find, read and check one submission. Never raises for what the student handed in."""
    folder = step_folder(coursedir, coursedir.submitted_directory, student, lesson)
    intake = Intake(status=Status.GRADED)
    path = _find_notebook(folder, lesson, intake.notes) if folder.is_dir() else None
    if path is None:
        intake.status = Status.MISSING
        intake.notes.insert(0, Note.NO_NOTEBOOK.say(lesson=lesson))
        return intake
    extra = sorted(p.name for p in folder.iterdir() if p != path and p.name not in IGNORED_FILES)
    if extra:
        intake.notes.append(Note.EXTRA_FILES.say(", ".join(extra[:5]) + (" ..." if len(extra) > 5 else "")))
    nb = _read(path, intake)
    if nb is None:
        return intake
    check_graded_cells(nb, nbformat.read(release_notebook(root, lesson), as_version=4), intake.notes)
    intake.notebook = nb
    return intake


def stage(coursedir, staging, student, lesson, nb):
    """Write the notebook to grade, with the submission's timestamp, where autograde reads it
    (the `staging` directory, nbgrader's submitted_directory during `course grade`)."""
    staged = step_folder(coursedir, staging, student, lesson)
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    nbformat.write(nb, staged / f"{lesson}.ipynb")
    timestamp = step_folder(coursedir, coursedir.submitted_directory, student, lesson) / "timestamp.txt"
    if timestamp.is_file():
        shutil.copy(timestamp, staged / "timestamp.txt")
    return staged
