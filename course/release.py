"""`course release`: the student notebooks in release/ from the instructor notebooks in source/."""
import re
from pathlib import Path

import nbformat

from course import cells
from course.errors import CourseError
from course.nbgrader_api import load_config, make_api, result_lines
from course.nbgrader_plugins import colab_badge
from course.paths import lesson_ids, release_notebook, source_notebook

README_TABLE_BEGIN = "<!-- lessons:begin (course release writes this table) -->"
README_TABLE_END = "<!-- lessons:end -->"


def metadata_problems(path):
    """What nbgrader would reject in a source notebook, said per cell, before it runs."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001 (any unreadable notebook is a problem to report)
        return [f"{path}: not a readable notebook ({error})"]
    problems, seen = [], {}
    if not nb.cells or nb.cells[0].cell_type != "markdown":
        problems.append(f"{path}: the first cell must be the markdown title")
    for number, cell in enumerate(nb.cells, start=1):
        where = f"{path}, cell {number}"
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            problems.append(f"{where}: has outputs; clear them before committing")
        if not cells.is_managed(cell):
            for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS"):
                if marker in cell.source:
                    problems.append(f"{where}: '{marker}' in a cell that nbgrader does not manage")
            continue
        grade_id = cells.grade_id(cell)
        if not grade_id:
            problems.append(f"{where}: nbgrader cell without grade_id")
            continue
        if not re.fullmatch(r"[A-Za-z0-9_\-]+", grade_id):
            problems.append(f"{where}: grade_id {grade_id!r} may use letters, digits, _ and -")
        if grade_id in seen:
            problems.append(f"{where}: grade_id {grade_id!r} is already used by cell {seen[grade_id]}")
        seen[grade_id] = number
        if cells.is_test(cell):
            if not cells.points(cell) or cells.points(cell) <= 0:
                problems.append(f"{where} ({grade_id}): a test cell needs points > 0")
            if "BEGIN SOLUTION" in cell.source:
                problems.append(f"{where} ({grade_id}): a solution region inside a test cell")
        if cells.is_answer(cell) and cell.cell_type == "code":
            if cell.source.count("BEGIN SOLUTION") != 1 or cell.source.count("END SOLUTION") != 1:
                problems.append(f"{where} ({grade_id}): needs one BEGIN SOLUTION ... END SOLUTION")
        if cell.source.count("BEGIN HIDDEN TESTS") != cell.source.count("END HIDDEN TESTS"):
            problems.append(f"{where} ({grade_id}): unbalanced BEGIN/END HIDDEN TESTS")
    return problems


def release(root, lessons, update_readme=True):
    """Regenerate release/<lesson>/ for each lesson; raise CourseError saying what is wrong."""
    root = Path(root)
    problems = [p for lesson in lessons for p in metadata_problems(source_notebook(root, lesson))]
    if problems:
        raise CourseError("metadata problems, nothing released:\n  " + "\n  ".join(problems))
    api = make_api(root)
    for lesson in lessons:
        result = api.generate_assignment(lesson, force=True, create=True)
        if not result["success"]:
            raise CourseError(f"{lesson}: nbgrader generate_assignment failed:\n"
                               f"{_last_error(result)}")
        _normalise(release_notebook(root, lesson))
    if update_readme and (root / "README.md").is_file():
        write_readme_table(root)


def _last_error(result):
    return "\n".join(result_lines(result)[-12:])


def _normalise(path):
    """Release notebooks are committed: no outputs, stable JSON."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(nb, path)


def lesson_table(root):
    """The README's lesson table: title of each lesson and its Colab badge."""
    config = load_config(root)
    repository, branch = config.ColabBadge.repository, config.ColabBadge.get("branch", "main")
    rows = ["| 강의 (lesson) | 제목 (title) | Colab |", "|---|---|---|"]
    for lesson in lesson_ids(root):
        path = release_notebook(root, lesson)
        if not path.is_file():
            continue
        nb = nbformat.read(path, as_version=4)
        title = nb.cells[0].source.splitlines()[0].lstrip("# ").strip()
        badge = colab_badge(repository, branch, lesson, path.stem)
        rows.append(f"| [`{lesson}`]({path.relative_to(Path(root).resolve()).as_posix()}) | {title} | {badge} |")
    return "\n".join(rows)


def write_readme_table(root):
    readme = Path(root) / "README.md"
    text = readme.read_text(encoding="utf-8")
    if README_TABLE_BEGIN not in text or README_TABLE_END not in text:
        raise CourseError(f"{readme}: the markers {README_TABLE_BEGIN} ... {README_TABLE_END} "
                           "are missing; the lesson table goes between them")
    head, rest = text.split(README_TABLE_BEGIN, 1)
    _, tail = rest.split(README_TABLE_END, 1)
    readme.write_text(f"{head}{README_TABLE_BEGIN}\n{lesson_table(root)}\n{README_TABLE_END}{tail}",
                      encoding="utf-8")
