"""Finding and taking in submissions before nbgrader sees them.

`find_submissions` lists the (student, lesson) pairs in submitted/; `take_in` finds and reads one
student's notebook and notes what the student did to the graded cells; `stage` writes the copy
nbgrader grades. submitted/ is only read, never changed, and only its regular files are taken in
(course.untrusted): a submission that is a symlink or a special file is refused, and so is a hard
link to a file outside submitted/ (source/, the gradebook, ...). Notebooks that are one file under
several students' names are each graded, and flagged for review with that evidence.
"""
import codecs
import copy
import json
import os
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field

import nbformat
import regex
from nbgrader.utils import parse_utc

from course import cells, integrity
from course.cell_names import defined_and_read
from course.nbgrader_api import course_directory
from course.paths import (
    lesson_ids,
    release_notebook,
    source_notebook,
    step_folder,
    step_root,
    student_of,
    students_with,
)
from course.status import Note, Status
from course.untrusted import (
    NotRegularFile,
    is_real_folder,
    is_regular_file,
    lexists,
    other_names,
    read_regular,
)

IGNORED_FILES = {"timestamp.txt", ".ipynb_checkpoints"}
# nbgrader finds a student's files with glob patterns built from the student id, and globs the
# paths it found once more: no escaping survives that, so such ids are not passed to it.
GLOB_CHARACTERS = set("*?[]")
# Characters that show as nothing: Unicode's format characters (zero-width spaces, direction
# marks) and default-ignorable code points (Hangul fillers, variation selectors)
UNSEEN = regex.compile(r"[\p{Cf}\p{Default_Ignorable_Code_Point}]")


@dataclass
class Intake:
    """One submission as taken in: its status (GRADED while it can still be graded), notes, and
    the notebook to grade (a cleaned copy), or None."""
    status: Status
    notes: list = field(default_factory=list)
    notebook: object = None


def find_submissions(root, students=None, lessons=None):
    """(student, lesson) pairs with a folder (or a link) submitted/<student>/<lesson>, sorted, filtered
    by the names given. Every folder counts, whatever its name (nbgrader's own listing skips
    dotted names and names with a line break): take_in refuses the names nbgrader cannot handle,
    so that they get a row and a reason instead of vanishing."""
    coursedir = course_directory(root)
    return sorted((student, lesson) for lesson in lessons or lesson_ids(root)
                  for student in students_with(coursedir, coursedir.submitted_directory, lesson,
                                               everyone=True)
                  if not students or student in students)


def unusable_name(student):
    """True for a student id nbgrader cannot be given, or that would pass for another: nbgrader
    skips names starting with a dot or holding a line break, and strips spaces (no-break ones
    included) at either end, which would grade submitted/kim/ for the folder 'kim '; a character
    of no width, a direction mark or a filler that shows as nothing ('\\u200bkim', '\\u3164kim':
    Unicode's format characters and default-ignorable code points) makes a name that grades.csv
    shows as another student's. Other control characters ('bell\\x07') pass: nbgrader keeps them,
    and the report and status lines show them escaped."""
    return (student.startswith(".") or student != student.strip() or "\n" in student
            or UNSEEN.search(student) is not None)


def _find_notebook(folder, lesson, notes):
    expected = folder / f"{lesson}.ipynb"
    if is_regular_file(expected, names=None):
        return expected
    others = sorted(p for p in folder.glob("*.ipynb") if is_regular_file(p, names=None))
    if len(others) == 1:
        notes.append(Note.RENAMED.say(others[0].name))
        return others[0]
    if others:
        notes.append(Note.SEVERAL_NOTEBOOKS.say(", ".join(p.name for p in others), lesson=lesson))
    return None


CELL_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")  # nbformat 4.5's rule for a cell id
ENCODINGS = ("utf-8-sig", "utf-32", "utf-16", "cp949")  # cp949: Korean Windows' ANSI code page


def decode(raw):
    """(text, encoding) of a notebook file's bytes as real editors save them: UTF-8 with or
    without a byte-order mark, UTF-16 or UTF-32 with one, else Korean Windows' cp949; raises
    UnicodeDecodeError where none fits."""
    boms = {"utf-16": (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE),
            "utf-32": (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)}
    for encoding in ENCODINGS:
        if encoding in boms and not raw.startswith(boms[encoding]):
            continue
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8"), "utf-8"  # raises, naming where


def normalise(nb, released):
    """The student's cells (source, cell type, cell metadata, attachments) in a fresh, valid
    notebook of the current nbformat, with the release notebook's metadata (kernel, language).
    Missing `outputs`, `execution_count` or ids, old minor versions and the student's own outputs
    do not reach nbgrader."""
    fresh = nbformat.v4.new_notebook(metadata=copy.deepcopy(released.metadata))
    makers = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
              "raw": nbformat.v4.new_raw_cell}
    ids = set()
    for cell in nb.cells:
        source = cell.get("source", "")
        made = makers.get(cell.get("cell_type"), nbformat.v4.new_raw_cell)(
            source="".join(source) if isinstance(source, list) else str(source),
            metadata=copy.deepcopy(dict(cell.get("metadata", {}))))
        given = cell.get("id")
        if isinstance(given, str) and CELL_ID.fullmatch(given) and given not in ids:
            made.id = given  # the student's own id where it is valid and unique
        ids.add(made.id)
        if cell.get("attachments") and made.cell_type != "code":
            made.attachments = copy.deepcopy(cell.attachments)
        fresh.cells.append(made)
    nbformat.validate(fresh)
    return fresh


def refusal(base, folder, lesson):
    """Why a submission folder cannot be taken in, or None: the folder (or a folder above it,
    up to `base`, submitted/) is a symlink or not a folder, or the notebook to grade is a
    symlink or a special file (a named pipe, a device). Hard links: see shared_with."""
    if not lexists(folder):
        return None
    if not is_real_folder(folder, base):
        return Note.NOT_REGULAR.say(f"{os.path.relpath(folder, base)}/")
    expected = folder / f"{lesson}.ipynb"
    if lexists(expected):
        return None if is_regular_file(expected, names=None) else Note.NOT_REGULAR.say(expected.name)
    candidates = sorted(folder.glob("*.ipynb"))
    if candidates and not any(is_regular_file(p, names=None) for p in candidates):
        return Note.NOT_REGULAR.say(", ".join(p.name for p in candidates[:5]))
    return None


def shared_with(coursedir, path, student):
    """For the notebook at `path` in `student`'s submitted folder: the other students whose
    submissions are the same file (hard links), sorted, and how many names the file has. Raises
    NotRegularFile if it is a hard link to a file that is not a submission (the source notebook,
    the gradebook, anything): that file is never read."""
    others = other_names(path, step_root(coursedir, coursedir.submitted_directory))
    owners = {student_of(coursedir, coursedir.submitted_directory, other) for other in others}
    if None in owners:
        raise NotRegularFile(f"{path} is also a file outside the submissions")
    return sorted(owners - {student}), len(others) + 1


def shared_file_note(sharing):
    """The note of a submission that is the same file as the `sharing` students' (hard links)."""
    return Note.SHARED_FILE.say("; ".join(
        f"same file as {other}'s submission (hard link)" for other in sharing))


def _read(path, intake, names=1):
    try:
        raw = read_regular(path, names=names)
    except NotRegularFile:  # swapped for a link or a pipe, or linked again, since it was found
        intake.status = Status.CORRUPT
        intake.notes.append(Note.NOT_REGULAR.say(path.name))
        return None
    if not raw.strip():
        intake.status = Status.EMPTY
        intake.notes.append(Note.EMPTY_FILE.say())
        return None
    try:
        text, _ = decode(raw)
        return nbformat.reads(text, as_version=4)
    except (UnicodeDecodeError, json.JSONDecodeError, nbformat.reader.NotJSONError) as error:
        problem = Note.NOT_JSON.say(str(error)[:80])
    except Exception as error:  # noqa: BLE001 (nbformat raises many kinds for a broken notebook)
        problem = Note.NOT_A_NOTEBOOK.say(type(error).__name__)
    intake.status = Status.CORRUPT
    intake.notes.append(problem)
    return None


def _same_source(a, b):
    return [line.rstrip() for line in a.strip().splitlines()] == [line.rstrip() for line in b.strip().splitlines()]


def restore_graded_cells(nb, released, answer_names, notes):
    """Give back the nbgrader metadata of graded cells that lost it (cells pasted into a fresh
    notebook, as Colab does), and put back the test cells that are gone, each after the graded
    cell it follows in the release. An answer cell is recognised by the names it defines (those
    of the release stub, else `answer_names[grade_id]`), the last one that defines them; a test
    or locked cell by its source. Returns the grade_ids of answer cells that nothing matched."""
    present = {cells.grade_id(c) for c in nb.cells if cells.grade_id(c)}
    unmanaged = [c for c in nb.cells if not cells.is_managed(c)]
    unmatched, recognised = [], []
    for original in released.cells:
        grade_id = cells.grade_id(original)
        if grade_id is None or grade_id in present:
            continue
        if cells.is_answer(original):
            wanted = defined_and_read(original.source)[0] or answer_names.get(grade_id, set())
            match = [c for c in unmanaged if c.cell_type == original.cell_type and wanted
                     and wanted <= defined_and_read(c.source)[0]]
        else:
            match = [c for c in unmanaged if c.cell_type == original.cell_type
                     and _same_source(c.source, original.source)]
        if match:
            match[-1].metadata["nbgrader"] = copy.deepcopy(original.metadata["nbgrader"])
            unmanaged.remove(match[-1])
            present.add(grade_id)
            recognised.append(grade_id)
        elif cells.is_answer(original):
            unmatched.append(grade_id)
    if recognised:
        notes.append(Note.METADATA_RESTORED.say(", ".join(recognised)))
    for grade_id in _put_back_tests(nb, released, present):
        notes.append(Note.DELETED_TEST.say(grade_id))
    for grade_id in unmatched:
        notes.append(Note.DELETED_CELL.say(grade_id))
    return unmatched


def _put_back_tests(nb, released, present):
    """Insert the release's test cells missing from nb, each right after the nbgrader cell that
    comes before it in the release and is in nb (at the end where there is none); returns their
    grade_ids."""
    where = {cells.grade_id(c): c for c in nb.cells if cells.grade_id(c)}
    previous, inserted = None, []
    for original in released.cells:
        grade_id = cells.grade_id(original)
        if grade_id is None:
            continue
        if cells.is_test(original) and grade_id not in where:
            restored = copy.deepcopy(original)
            index = nb.cells.index(where[previous]) + 1 if previous in where else len(nb.cells)
            nb.cells.insert(index, restored)
            where[grade_id] = restored
            inserted.append(grade_id)
        if grade_id in where:
            previous = grade_id
    return inserted


def check_graded_cells(nb, released, notes):
    """Strip the nbgrader metadata nbgrader would trip over (an unknown or repeated grade_id),
    give every other nbgrader cell back the release's nbgrader metadata (a test cell marked
    `grade: false` or unlocked would make nbgrader refuse the whole notebook with 'Inconsistent
    checksums'), and note the test cells the student edited (autograde restores them)."""
    known = {cells.grade_id(c): c for c in released.cells if cells.grade_id(c)}
    seen, changed = Counter(), []
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
        if cell.metadata["nbgrader"] != original.metadata["nbgrader"]:
            cell.metadata["nbgrader"] = copy.deepcopy(original.metadata["nbgrader"])
            changed.append(grade_id)
        if cells.is_test(original) and cell.source != original.source:
            notes.append(Note.EDITED_LOCKED.say(grade_id))
    if changed:
        notes.append(Note.EDITED_LOCKED.say(", ".join(changed) + " (nbgrader metadata)"))


def _answer_names(source):
    """{grade_id: names the instructor's answer defines} of the source notebook's answer cells."""
    return {cells.grade_id(c): defined_and_read(c.source)[0] for c in source.cells if cells.is_answer(c)}


def take_in(root, coursedir, student, lesson):
    """Find, read and check one submission. Never raises for what the student handed in."""
    intake = Intake(status=Status.GRADED)
    if unusable_name(student):
        intake.status = Status.FAILED
        intake.notes.append(Note.NAME_NOT_USABLE.say(repr(student)))
        return intake
    if set(student) & GLOB_CHARACTERS:
        intake.status = Status.FAILED
        intake.notes.append(Note.GLOB_IN_NAME.say(student))
        return intake
    base = step_root(coursedir, coursedir.submitted_directory)
    folder = step_folder(coursedir, coursedir.submitted_directory, student, lesson)
    refused = refusal(base, folder, lesson)
    if refused:
        return Intake(status=Status.CORRUPT, notes=[refused])
    path = _find_notebook(folder, lesson, intake.notes) if folder.is_dir() else None
    if path is None:
        intake.status = Status.MISSING
        intake.notes.insert(0, Note.NO_NOTEBOOK.say(lesson=lesson))
        return intake
    try:
        sharing, names = shared_with(coursedir, path, student)
    except NotRegularFile:
        return Intake(status=Status.CORRUPT, notes=[Note.NOT_REGULAR.say(f"{path.name} (hard link)")])
    extra = sorted(p.name for p in folder.iterdir() if p != path and p.name not in IGNORED_FILES)
    if extra:
        intake.notes.append(Note.EXTRA_FILES.say(", ".join(extra[:5]) + (" ..." if len(extra) > 5 else "")))
    nb = _read(path, intake, names)
    if nb is None:
        return intake
    released = nbformat.read(release_notebook(root, lesson), as_version=4)
    try:
        nb = normalise(nb, released)
    except Exception as error:  # noqa: BLE001 (whatever is left that nbformat rejects)
        intake.status = Status.CORRUPT
        intake.notes.append(Note.NOT_A_NOTEBOOK.say(f"{type(error).__name__}: {str(error)[:80]}"))
        return intake
    check_graded_cells(nb, released, intake.notes)
    lost_all = not any(cells.is_managed(c) for c in nb.cells)
    source = nbformat.read(source_notebook(root, lesson), as_version=4)
    unmatched = restore_graded_cells(nb, released, _answer_names(source), intake.notes)
    if unmatched and lost_all:
        intake.status = Status.MANUAL
        intake.notes.append(Note.ANSWER_NOT_FOUND.say(", ".join(unmatched)))
    findings = integrity.review(nb, released, source)
    if findings:
        intake.status = Status.FLAGGED
        intake.notes.insert(0, Note.FLAGGED_CODE.say("; ".join(map(str, findings[:8]))
                                                     + (" ..." if len(findings) > 8 else "")))
    if sharing:
        intake.status = Status.FLAGGED
        intake.notes.insert(0, shared_file_note(sharing))
    intake.notebook = nb
    return intake


def stage(coursedir, staging, student, lesson, nb):
    """Write the notebook to grade, with the submission's timestamp, where autograde reads it
    (the `staging` directory, nbgrader's submitted_directory during `course grade`)."""
    staged = step_folder(coursedir, staging, student, lesson)
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    nbformat.write(nb, staged / f"{lesson}.ipynb")
    timestamp = submitted_timestamp(step_folder(coursedir, coursedir.submitted_directory, student, lesson))
    if timestamp:
        (staged / "timestamp.txt").write_text(timestamp, encoding="utf-8")
    return staged


def submitted_timestamp(folder):
    """The submission's timestamp.txt as nbgrader reads it, if it is a regular file holding a
    date nbgrader can parse; else None (nbgrader then grades without a timestamp)."""
    try:
        text = read_regular(folder / "timestamp.txt", limit=200).decode("utf-8").strip()
        parse_utc(text)
    except (OSError, UnicodeDecodeError, ValueError, OverflowError):
        return None
    return text or None
