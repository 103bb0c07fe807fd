"""Every lesson: the solution runs and passes; every graded check fails on the blank release
and each catalogued wrong answer loses exactly its points; every alternative correct answer
keeps every point; feedback hides hidden tests."""
import html
import re

import nbformat
import pytest
from conftest import LESSONS, per_lesson

from course import submissions
from course.execute import errors
from course.gradebook import cell_scores
from course.paths import (
    REPOSITORY_ROOT,
    alternative_answers_file,
    autograded_notebook,
    feedback_html,
    source_notebook,
)

WRONG = [(lesson, wrong.name) for lesson in LESSONS
         for wrong in submissions.wrong_answers(REPOSITORY_ROOT, lesson)]
# (lesson, pack number, the names of the alternatives in that pack): the test id says which
ALTERNATIVE_PACKS = [
    (lesson, number, "+".join(a.name for a in pack)) for lesson in LESSONS
    for number, pack in enumerate(submissions.alternative_packs(
        submissions.alternative_answers(REPOSITORY_ROOT, lesson)))]


def _graded_cells(lesson):
    return submissions.graded_cells(REPOSITORY_ROOT, lesson)


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


@pytest.mark.slow
@pytest.mark.parametrize("lesson", per_lesson())
def test_blank_release_fails_every_check(graded_lesson, lesson):
    graded = graded_lesson(lesson)
    scores = _scores(graded, "blank")
    assert {cell: score for cell, (score, _) in scores.items()} == dict.fromkeys(scores, 0)
    autograded = nbformat.read(autograded_notebook(graded.root, "blank", lesson), as_version=4)
    failed = {cell.metadata.nbgrader.grade_id for cell in autograded.cells
              if cell.cell_type == "code" and any(o.output_type == "error" for o in cell.outputs)}
    assert set(_graded_cells(lesson)) <= failed


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
