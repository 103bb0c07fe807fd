"""Example submissions made from a lesson's release notebook: the instructor's answers,
plausible wrong answers (source/<lesson>/wrong_answers.toml), other correct answers
(source/<lesson>/alternative_answers.toml) and a syntax error."""
import copy
import functools
import os
import tomllib
from dataclasses import dataclass, field

import nbformat

from course import cells
from course.cell_names import defined_and_read
from course.paths import (
    alternative_answers_file,
    release_notebook,
    source_notebook,
    submitted_notebook,
    wrong_answers_file,
)

SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


@dataclass(frozen=True)
class WrongAnswer:
    """A plausible mistake: `code` replaces solution cell `cell` and costs the tests in `loses`.
    `visible`: the visible checks of every test cell in `loses` already fail, so the student
    sees the mistake before grading (None: the catalogue does not say)."""
    name: str
    cell: str
    code: str
    loses: list = field(default_factory=list)
    why: str = ""
    visible: bool | None = None


def wrong_answers(root, lesson):
    path = wrong_answers_file(root, lesson)
    if not path.is_file():
        return []
    entries = tomllib.loads(path.read_text(encoding="utf-8")).get("wrong", [])
    return [WrongAnswer(name=e["name"], cell=e["cell"], code=e["code"].strip("\n"),
                        loses=list(e["loses"]), why=e.get("why", ""), visible=e.get("visible"))
            for e in entries]


@dataclass(frozen=True)
class AlternativeAnswer:
    """Another correct answer: `code` replaces solution cell `cell` and must keep every point."""
    name: str
    cell: str
    code: str
    why: str = ""


def alternative_answers(root, lesson):
    """The lesson's alternative correct answers ([[alternative]] entries), in file order."""
    path = alternative_answers_file(root, lesson)
    if not path.is_file():
        return []
    entries = tomllib.loads(path.read_text(encoding="utf-8")).get("alternative", [])
    return [AlternativeAnswer(name=e["name"], cell=e["cell"], code=e["code"].strip("\n"),
                              why=e.get("why", "")) for e in entries]


def alternative_packs(answers):
    """Correct answers grouped into as few submissions as possible, at most one answer per cell:
    pack k holds the k-th answer of every cell that has one (so there are as many packs as the
    cell with the most answers has). Every answer is correct, so any mix of them must keep
    every point; a pack that loses points names the answers it holds."""
    by_cell = {}
    for answer in answers:
        by_cell.setdefault(answer.cell, []).append(answer)
    depth = max((len(group) for group in by_cell.values()), default=0)
    return [[group[k] for group in by_cell.values() if k < len(group)] for k in range(depth)]


def _read(path):
    """The notebook at `path`, read and validated once while the file is unchanged (a class of
    example submissions reads the same source and release notebooks dozens of times). Shared:
    callers copy it before they change it."""
    status = os.stat(path)
    return _read_version(os.fspath(path), status.st_mtime_ns, status.st_size)


@functools.lru_cache(maxsize=64)
def _read_version(path, mtime_ns, size):
    return nbformat.read(path, as_version=4)


def solutions(root, lesson):
    """{grade_id: code} of the source notebook's solution cells, without the markers."""
    nb = _read(source_notebook(root, lesson))
    return {
        cells.grade_id(cell): "\n".join(line for line in cell.source.splitlines()
                                   if line.strip() not in SOLUTION_MARKERS)
        for cell in nb.cells if cells.is_answer(cell)
    }


def answered(root, lesson, replace=None):
    """The release notebook with every solution cell answered as the instructor did,
    except the cells named in `replace` ({grade_id: code})."""
    answers = {**solutions(root, lesson), **(replace or {})}
    nb = blank(root, lesson)
    for cell in nb.cells:
        if cells.is_answer(cell) and cells.grade_id(cell) in answers:
            cell.source = answers[cells.grade_id(cell)]
    return nb


def blank(root, lesson):
    """The release notebook as a student gets it (a copy of its own)."""
    return copy.deepcopy(_read(release_notebook(root, lesson)))


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
    nb = _read(source_notebook(root, lesson))
    return {cells.grade_id(cell): cells.points(cell) for cell in nb.cells if cells.is_test(cell)}


def test_dependencies(root, lesson, extra_code=()):
    """{test grade_id: set of solution-cell grade_ids whose names it reads, directly or through
    any earlier code cell}, from the source notebook's syntax. `extra_code` [(grade_id, code)]
    adds what other answers to a cell define and read."""
    nb = _read(source_notebook(root, lesson))
    extra = {}
    for grade_id, code in extra_code:
        defined, read = defined_and_read(code)
        extra.setdefault(grade_id, [set(), set()])
        extra[grade_id][0] |= defined
        extra[grade_id][1] |= read
    providers, dependencies = {}, {}  # name -> solution cells behind its latest definition
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        defined, read = defined_and_read(cell.source)
        grade_id = cells.grade_id(cell)
        if grade_id in extra:
            defined, read = defined | extra[grade_id][0], read | extra[grade_id][1]
        behind = set().union(*(providers.get(name, set()) for name in read))
        if cells.is_test(cell):
            dependencies[grade_id] = behind
        if cells.is_answer(cell):
            behind = behind | {grade_id}
        for name in defined:
            providers[name] = behind
    return dependencies


def packs(root, lesson, answers):
    """The answers (WrongAnswer-like: .cell, .code, .loses) grouped into as few submissions as
    the lesson allows, such that each test cell's outcome can come from one answer of its
    submission at most: no two answers of a submission share a cell, and no test cell reads (by
    test_dependencies) the cells of two of them or loses points to one answer while reading
    another's cell. Each submission then grades every answer as if it were alone, as long as
    answers affect one another only through names."""
    dependencies = test_dependencies(root, lesson, [(a.cell, a.code) for a in answers])

    def touching(answer, test):
        return answer.cell in dependencies[test] or test in answer.loses

    groups = []
    for answer in answers:
        for group in groups:
            if all(answer.cell != other.cell for other in group) and not any(
                    touching(answer, test) and any(touching(other, test) for other in group)
                    for test in dependencies):
                group.append(answer)
                break
        else:
            groups.append([answer])
    return groups
