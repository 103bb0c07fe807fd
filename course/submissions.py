"""Example submissions made from a lesson's release notebook: the instructor's answers,
plausible wrong answers (source/<lesson>/wrong_answers.toml) and a syntax error."""
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course.paths import release_notebook, source_notebook, submitted_notebook, wrong_answers_file

SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


@dataclass(frozen=True)
class WrongAnswer:
    """A plausible mistake: `code` replaces solution cell `cell` and costs the tests in `loses`."""
    name: str
    cell: str
    code: str
    loses: list = field(default_factory=list)
    why: str = ""


def wrong_answers(root, lesson):
    path = wrong_answers_file(root, lesson)
    if not path.is_file():
        return []
    entries = tomllib.loads(path.read_text(encoding="utf-8")).get("wrong", [])
    return [WrongAnswer(name=e["name"], cell=e["cell"], code=e["code"].strip("\n"),
                        loses=list(e["loses"]), why=e.get("why", "")) for e in entries]


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _is_solution(cell):
    return cell.metadata.get("nbgrader", {}).get("solution", False)


def solutions(root, lesson):
    """{grade_id: code} of the source notebook's solution cells, without the markers."""
    nb = nbformat.read(source_notebook(root, lesson), as_version=4)
    return {
        _grade_id(cell): "\n".join(line for line in cell.source.splitlines()
                                   if line.strip() not in SOLUTION_MARKERS)
        for cell in nb.cells if _is_solution(cell)
    }


def answered(root, lesson, replace=None):
    """The release notebook with every solution cell answered as the instructor did,
    except the cells named in `replace` ({grade_id: code})."""
    answers = {**solutions(root, lesson), **(replace or {})}
    nb = nbformat.read(release_notebook(root, lesson), as_version=4)
    for cell in nb.cells:
        if _is_solution(cell) and _grade_id(cell) in answers:
            cell.source = answers[_grade_id(cell)]
    return nb


def blank(root, lesson):
    return nbformat.read(release_notebook(root, lesson), as_version=4)


def with_wrong_answer(root, lesson, wrong):
    return answered(root, lesson, {wrong.cell: wrong.code})


def with_syntax_error(root, lesson):
    """The instructor's answers, but the first solution cell does not parse."""
    first = next(iter(solutions(root, lesson)))
    broken = solutions(root, lesson)[first] + "\n\ndef unfinished(:\n    pass\n"
    return answered(root, lesson, {first: broken}), first


def submit(root, student, lesson, nb):
    path = submitted_notebook(root, student, lesson)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def graded_cells(root, lesson):
    """{grade_id: points} of the graded test cells of a lesson, from its source notebook."""
    nb = nbformat.read(source_notebook(root, lesson), as_version=4)
    return {_grade_id(cell): cell.metadata["nbgrader"]["points"] for cell in nb.cells
            if cell.metadata.get("nbgrader", {}).get("grade") and not _is_solution(cell)}
