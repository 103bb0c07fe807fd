"""Every lesson: the solution runs and passes; every graded check fails on the blank release,
saying in Korean what to answer, and each catalogued wrong answer loses exactly its points, in
the visible checks when the catalogue says so; every alternative correct answer keeps every
point; feedback hides hidden tests."""
import ast
import html
import re

import nbformat
import pytest
from conftest import LESSONS, OVERWRITES_ITS_ARGUMENTS, per_lesson

from course import cells, submissions, test_scope
from course.cell_names import defined_and_read
from course.execute import errors
from course.gradebook import cell_scores
from course.paths import (
    REPOSITORY_ROOT,
    alternative_answers_file,
    autograded_notebook,
    feedback_html,
    source_notebook,
)
from course.status import Status

WRONG = [(lesson, wrong.name) for lesson in LESSONS
         for wrong in submissions.wrong_answers(REPOSITORY_ROOT, lesson)]
# (lesson, pack number, the names of the alternatives in that pack): the test id says which
ALTERNATIVE_PACKS = [
    (lesson, number, "+".join(a.name for a in pack)) for lesson in LESSONS
    for number, pack in enumerate(submissions.alternative_packs(
        submissions.alternative_answers(REPOSITORY_ROOT, lesson)))]


def _graded_cells(lesson):
    return submissions.graded_cells(REPOSITORY_ROOT, lesson)


def _test_cell_errors(nb):
    """{grade_id: (test cell, its first error output)} of the graded test cells that failed."""
    return {cells.grade_id(cell): (cell, errors[0]) for cell in nb.cells if cells.is_test(cell)
            and (errors := [o for o in cell.outputs if o.output_type == "error"])}


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def failed_line(error):
    """The line of the cell at which its error happened: the course's short traceback says
    "(이 셀의 N번째 줄)"; IPython's own has the frame of the function a test cell runs as
    (course.test_scope), "Cell In[k], line N, in test_cell()", its lines HEADER_LINES down, or
    else starts at the cell's frame, "Cell In[k], line N"."""
    text = ANSI.sub("", "\n".join(error.traceback))
    short = re.search(r"\(이 셀의 (\d+)번째 줄\)", text)
    if short:
        return int(short.group(1))
    scoped = re.search(rf"Cell In\[\d+\], line (\d+), in {test_scope.FUNCTION}\b", text)
    if scoped:
        return int(scoped.group(1)) - test_scope.HEADER_LINES
    match = re.search(r"Cell In\[\d+\], line (\d+)", text)
    return int(match.group(1)) if match else None


def hidden_lines(cell):
    """Line numbers (as IPython counts them: leading blank lines dropped) of the cell's hidden
    tests, their BEGIN/END lines included."""
    lines = cell.source.splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    hidden, inside = set(), False
    for number, line in enumerate(lines, start=1):
        begin, end = "BEGIN HIDDEN TESTS" in line, "END HIDDEN TESTS" in line
        if begin or end or inside:
            hidden.add(number)
        inside = (inside or begin) and not end
    return hidden


def _scores(graded, student):
    result = graded.results[student]
    assert str(result.status) == "graded", f"{student}: {result.reason}"
    scores = cell_scores(graded.root, graded.lesson, student)
    assert set(scores) == set(_graded_cells(graded.lesson)), "every graded cell is scored"
    return scores


@pytest.mark.parametrize("lesson", per_lesson())
def test_every_exercise_has_a_catalogued_wrong_answer(lesson):
    wrongs = submissions.wrong_answers(REPOSITORY_ROOT, lesson)
    solution_cells = set(submissions.solutions(REPOSITORY_ROOT, lesson))
    tests = set(_graded_cells(lesson))
    for wrong in wrongs:
        assert wrong.cell in solution_cells, f"{wrong.name}: no solution cell {wrong.cell}"
        assert wrong.loses and set(wrong.loses) <= tests, f"{wrong.name}: loses {wrong.loses}"
    assert tests <= {test for wrong in wrongs for test in wrong.loses}, (
        "test cells without a wrong answer: " + ", ".join(sorted(tests - {
            t for w in wrongs for t in w.loses})))


@pytest.mark.parametrize("lesson", per_lesson())
def test_every_wrong_answer_says_whether_the_visible_check_catches_it(lesson):
    unsaid = [w.name for w in submissions.wrong_answers(REPOSITORY_ROOT, lesson) if not isinstance(w.visible, bool)]
    assert not unsaid, f"say visible = true or false for {unsaid}"


@pytest.mark.parametrize("lesson", per_lesson())
def test_every_solution_cell_has_an_alternative_answer(lesson):
    assert alternative_answers_file(REPOSITORY_ROOT, lesson).is_file(), (
        f"{lesson} has no alternative_answers.toml")
    alternatives = submissions.alternative_answers(REPOSITORY_ROOT, lesson)
    solution_cells = set(submissions.solutions(REPOSITORY_ROOT, lesson))
    names = [a.name for a in alternatives]
    assert len(names) == len(set(names)), f"alternative names repeat: {names}"
    wrong_names = {w.name for w in submissions.wrong_answers(REPOSITORY_ROOT, lesson)}
    assert not wrong_names & set(names), f"names used by wrong answers too: {wrong_names & set(names)}"
    for alternative in alternatives:
        assert alternative.cell in solution_cells, f"{alternative.name}: no solution cell {alternative.cell}"
        assert alternative.why, f"{alternative.name}: say why it is correct and different"
        assert alternative.code.strip() != submissions.solutions(REPOSITORY_ROOT, lesson)[alternative.cell].strip(), (
            f"{alternative.name} is the solution itself")
    missing = solution_cells - {a.cell for a in alternatives}
    assert not missing, f"solution cells without an alternative answer: {sorted(missing)}"


@pytest.mark.slow
@pytest.mark.parametrize("lesson", per_lesson())
def test_solution_runs_without_an_error_and_gets_full_marks(graded_lesson, lesson):
    graded = graded_lesson(lesson)
    scores = _scores(graded, "solution")
    assert {cell: score for cell, (score, _) in scores.items()} == _graded_cells(lesson)
    nb = nbformat.read(autograded_notebook(graded.root, "solution", lesson), as_version=4)
    assert errors(nb) == [], "every cell of the solution notebook runs cleanly"
    result = graded.results["solution"]
    assert result.status is Status.GRADED, (str(result.status), result.notes)


@pytest.mark.slow
@pytest.mark.parametrize("lesson", per_lesson())
def test_no_check_reads_an_argument_after_the_answer_had_it(graded_lesson, lesson):
    """The solution that overwrites its arguments once it has its result keeps every point: every
    test cell computes its expected values first and gives each call its own copies, so no answer
    can pass by rewriting what it was given (tests/argument_scrambling.py). It may be flagged
    (it is not a beginner's code); its score is what is checked."""
    graded = graded_lesson(lesson)
    result = graded.results[OVERWRITES_ITS_ARGUMENTS]
    assert str(result.status) in ("graded", "flagged"), result.reason
    scores = cell_scores(graded.root, lesson, OVERWRITES_ITS_ARGUMENTS)
    assert set(scores) == set(_graded_cells(lesson)), "every graded cell is scored"
    lost = {cell: f"{score}/{points}" for cell, (score, points) in scores.items() if score != points}
    assert not lost, f"these test cells read an argument after the answer could change it: {lost}"


@pytest.mark.slow
@pytest.mark.parametrize("lesson", per_lesson())
def test_blank_release_fails_every_check(graded_lesson, lesson):
    graded = graded_lesson(lesson)
    scores = _scores(graded, "blank")
    assert {cell: score for cell, (score, _) in scores.items()} == dict.fromkeys(scores, 0)
    autograded = nbformat.read(autograded_notebook(graded.root, "blank", lesson), as_version=4)
    failed = {cells.grade_id(cell) for cell in autograded.cells
              if cell.cell_type == "code" and any(o.output_type == "error" for o in cell.outputs)}
    assert set(_graded_cells(lesson)) <= failed


@pytest.mark.slow
@pytest.mark.parametrize("lesson", per_lesson())
def test_blank_checks_say_in_korean_what_to_answer(graded_lesson, lesson):
    """Each test cell of the blank release fails with one Korean line and the line of the cell,
    no traceback (course/checks.py), and the student's feedback shows that line."""
    graded = graded_lesson(lesson)
    failed = _test_cell_errors(nbformat.read(autograded_notebook(graded.root, "blank", lesson), as_version=4))
    assert set(failed) == set(_graded_cells(lesson))
    page = feedback_html(graded.root, "blank", lesson).read_text(encoding="utf-8")
    feedback = html.unescape(re.sub(r"<[^>]+>", "", page))
    for grade_id, (_, error) in failed.items():
        said = f"{error.ename}: {error.evalue}"
        assert re.search("[가-힣]", error.evalue), f"{grade_id}: {said}"
        assert error.traceback == [said, f"(이 셀의 {failed_line(error)}번째 줄)"], f"{grade_id}: {error.traceback}"
        assert said in feedback, f"{grade_id}: the feedback does not show {said!r}"


@pytest.mark.slow
@pytest.mark.parametrize(("lesson", "wrong_name"), per_lesson(WRONG))
def test_the_visible_checks_catch_a_wrong_answer_as_catalogued(graded_lesson, lesson, wrong_name):
    """`visible = true` in wrong_answers.toml: every test cell the answer loses failed outside its
    hidden tests (the release's check cell, which has only the rest, fails too); `false`: at
    least one failed only in its hidden tests. A visible failure's message is in the feedback."""
    graded = graded_lesson(lesson)
    student, pack = graded.student_with(wrong_name)
    wrong = next(w for w in pack if w.name == wrong_name)
    failed = _test_cell_errors(nbformat.read(autograded_notebook(graded.root, student, lesson), as_version=4))
    page = feedback_html(graded.root, student, lesson).read_text(encoding="utf-8")
    feedback = html.unescape(re.sub(r"<[^>]+>", "", page))
    where = {}
    for grade_id in wrong.loses:
        assert grade_id in failed, f"{grade_id} did not fail"
        cell, error = failed[grade_id]
        line = failed_line(error)
        assert line is not None, f"{grade_id}: no line in {error.traceback}"
        where[grade_id] = "hidden" if line in hidden_lines(cell) else "visible"
        if where[grade_id] == "visible":
            assert f"{error.ename}: {error.evalue}" in feedback, f"{grade_id}: message not in the feedback"
    caught = all(part == "visible" for part in where.values())
    assert caught == wrong.visible, f"{wrong.name} ({wrong.why}) failed in these parts: {where}"


@pytest.mark.slow
@pytest.mark.parametrize(("lesson", "wrong_name"), per_lesson(WRONG))
def test_wrong_answer_loses_exactly_its_points(graded_lesson, lesson, wrong_name):
    """The wrong answer's submission may hold other wrong answers, for other cells, that no test
    cell reads together with it (submissions.packs): each test cell then loses its points to one
    answer at most, and the submission loses exactly the union of what they name."""
    graded = graded_lesson(lesson)
    student, pack = graded.student_with(wrong_name)
    wrong = next(w for w in pack if w.name == wrong_name)
    scores = {cell: score for cell, (score, _) in _scores(graded, student).items()}
    assert {cell: scores[cell] for cell in wrong.loses} == dict.fromkeys(wrong.loses, 0), wrong.why
    lost = {cell for w in pack for cell in w.loses}
    expected = {cell: (0 if cell in lost else points) for cell, points in _graded_cells(lesson).items()}
    assert scores == expected, f"{student} holds {[w.name for w in pack]}"


@pytest.mark.slow
@pytest.mark.parametrize(("lesson", "number", "names"), per_lesson(ALTERNATIVE_PACKS))
def test_alternative_answers_get_full_marks(graded_lesson, lesson, number, names):
    """A submission holding several alternative correct answers (one per cell) keeps every
    point: the checks test behaviour, not one way of writing an answer."""
    graded = graded_lesson(lesson)
    student = f"alternatives_{number:02d}"
    pack = graded.alternative_packs[student]
    assert [a.name for a in pack] == names.split("+")
    scores = {cell: score for cell, (score, _) in _scores(graded, student).items()}
    lost = {cell: f"{score}/{points}" for cell, points in _graded_cells(lesson).items()
            if (score := scores[cell]) != points}
    assert not lost, (f"{student} ({', '.join(f'{a.name} in {a.cell}' for a in pack)}) "
                      f"lost points in {lost}")
    nb = nbformat.read(autograded_notebook(graded.root, student, lesson), as_version=4)
    assert errors(nb) == [], f"{student}: every cell runs cleanly"
    result = graded.results[student]
    assert result.status is Status.GRADED, (student, str(result.status), result.notes)  # not flagged


def _hidden_test_lines(lesson):
    """Lines that only the hidden tests have (a hidden check may repeat a visible line)."""
    nb = nbformat.read(source_notebook(REPOSITORY_ROOT, lesson), as_version=4)
    hidden, visible = set(), set()
    for cell in nb.cells:
        pattern = r"BEGIN HIDDEN TESTS(.*?)END HIDDEN TESTS"
        for region in re.findall(pattern, cell.source, re.S):
            hidden |= {line.strip() for line in region.splitlines() if len(line.strip()) > 12}
        visible |= {line.strip() for line in re.sub(pattern, "", cell.source, flags=re.S).splitlines()}
    return sorted(hidden - visible)


@pytest.mark.slow
@pytest.mark.parametrize("lesson", per_lesson())
def test_feedback_shows_no_hidden_test(graded_lesson, lesson):
    graded = graded_lesson(lesson)
    hidden = _hidden_test_lines(lesson)
    assert hidden, "a lesson has hidden tests"
    for student in graded.results:
        page = feedback_html(graded.root, student, lesson)
        assert page.is_file(), f"no feedback for {student}"
        text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"{student}: hidden test lines in feedback: {leaked[:3]}"


def _data_the_lesson_binds(lesson):
    """Names the lesson's own cells (not answers, tests or helpers) bind to a value (not by import,
    def or class): data a student's code could change in place."""
    nb = nbformat.read(source_notebook(REPOSITORY_ROOT, lesson), as_version=4)
    bound = set()
    for cell in nb.cells:
        if cell.cell_type != "code" or cells.grade_id(cell) or cells.is_answer(cell):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for statement in tree.body:
            if isinstance(statement, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef,
                                      ast.ClassDef)):
                continue
            bound |= {node.id for node in ast.walk(statement)
                      if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    return bound


@pytest.mark.parametrize("lesson", per_lesson())
def test_no_test_cell_reads_data_the_lessons_cells_bind(lesson):
    """A student's function that a test calls could change the lesson's data in place (`crime`,
    `W0`) and so what a later check computes as expected: the test cells make or read their own
    (hidden tests included)."""
    nb = nbformat.read(source_notebook(REPOSITORY_ROOT, lesson), as_version=4)
    data = _data_the_lesson_binds(lesson)
    read = {}
    for cell in nb.cells:
        if cells.is_test(cell):
            defined, reads = defined_and_read(cell.source)
            read[cells.grade_id(cell)] = sorted((set(reads) - set(defined)) & data)
    assert not any(read.values()), f"test cells reading the lesson's data: { {k: v for k, v in read.items() if v} }"
