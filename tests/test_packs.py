"""course.submissions.test_dependencies and packs on small source notebooks written to a scratch
course, and packs on the six lessons: wrong answers share a submission only where no test cell
can tell them apart."""
import copy
from collections import Counter

import pytest
import tiny_lesson
from nbformat.v4 import new_code_cell
from tiny_lesson import LESSON, answer_cell, graded_cell

from course import submissions
from course.paths import REPOSITORY_ROOT, lesson_ids
from course.submissions import WrongAnswer, packs, wrong_answers

dependencies_of = submissions.test_dependencies  # imported by its name, pytest would collect it

F = answer_cell("a", "def f(v):\n    return v + 1")
G = answer_cell("b", "def g(v):\n    return 2 * v")
TEST_F = graded_cell("test_a", "assert f(1) == 2")
TEST_G = graded_cell("test_b", "assert g(1) == 2")
TEST_BOTH = graded_cell("test_ab", "assert g(f(1)) == 4")


@pytest.fixture
def course_of(tmp_path):
    """course_of(*cells): a scratch course whose lesson's source notebook holds those cells."""
    def make(*cells):
        return tiny_lesson.course(tmp_path / f"course{len(list(tmp_path.iterdir()))}",
                                  {LESSON: tiny_lesson.lesson(*map(copy.deepcopy, cells))})
    return make


def _wrong(name, cell, loses=(), code="pass"):
    return WrongAnswer(name=name, cell=cell, code=code, loses=list(loses))


def _names(groups):
    return [[answer.name for answer in group] for group in groups]


WRONG_F = _wrong("f_off", "a", ["test_a"], "def f(v):\n    return v")
WRONG_G = _wrong("g_off", "b", ["test_b"], "def g(v):\n    return v")


def test_answers_no_test_cell_reads_together_share_a_submission(course_of):
    root = course_of(F, G, TEST_F, TEST_G)
    assert _names(packs(root, LESSON, [WRONG_F, WRONG_G])) == [["f_off", "g_off"]]


def test_a_test_reading_two_answer_cells_keeps_their_wrong_answers_apart(course_of):
    root = course_of(F, G, TEST_F, TEST_G, TEST_BOTH)
    assert dependencies_of(root, LESSON)["test_ab"] == {"a", "b"}
    assert _names(packs(root, LESSON, [WRONG_F, WRONG_G])) == [["f_off"], ["g_off"]]


def test_answers_to_the_same_cell_are_apart(course_of):
    """Cells no test reads: only the cell they share keeps them apart."""
    root = course_of(F, G)
    one, other = _wrong("one", "a"), _wrong("other", "a")
    assert _names(packs(root, LESSON, [one, _wrong("elsewhere", "b"), other])) == [
        ["one", "elsewhere"], ["other"]]


def test_an_answer_losing_a_test_it_does_not_touch_stays_apart_from_those_touching_it(course_of):
    """f_breaks_g's mistake costs test_b points although test_b does not read its cell (say, by
    changing something both use): an answer to g, which test_b reads, must not share with it."""
    root = course_of(F, G, TEST_F, TEST_G)
    breaks_g = _wrong("f_breaks_g", "a", ["test_b"])
    assert _names(packs(root, LESSON, [breaks_g, _wrong("g_quiet", "b")])) == [["f_breaks_g"], ["g_quiet"]]
    harmless = _wrong("f_harmless", "a")
    assert _names(packs(root, LESSON, [harmless, _wrong("g_quiet", "b")])) == [["f_harmless", "g_quiet"]]


def test_only_names_read_from_the_notebook_make_dependencies(course_of):
    root = course_of(
        answer_cell("a", "x = 1"),
        graded_cell("test_local", "def check():\n    x = 5\n    return x\n\nassert check() == 5"),
        graded_cell("test_parameter", "def check(x):\n    return x\n\nsame = lambda x: x\nassert check(same(3)) == 3"),
        graded_cell("test_comprehension", "assert [x for x in range(3)] == [0, 1, 2]\n"
                                          "assert {x: x for x in 'ab'} and sum(x for x in [1]) == 1"),
        graded_cell("test_in_function", "def check():\n    return x\n\nassert check() == 1"),
        graded_cell("test_direct", "assert x == 1"),
        new_code_cell("%matplotlib inline\ny = x * 2"),
        graded_cell("test_through_a_plain_cell", "assert y == 2"),
        graded_cell("test_defined_first", "x = 10\nassert x == 10"),
        graded_cell("test_after_the_redefinition", "assert x == 10"),
    )
    assert dependencies_of(root, LESSON) == {
        "test_local": set(), "test_parameter": set(), "test_comprehension": set(),
        "test_in_function": {"a"}, "test_direct": {"a"}, "test_through_a_plain_cell": {"a"},
        "test_defined_first": set(), "test_after_the_redefinition": set()}


def test_what_another_answer_to_a_cell_reads_counts(course_of):
    root = course_of(F, G, TEST_G)
    assert dependencies_of(root, LESSON) == {"test_b": {"b"}}
    reads_f = ("b", "def g(v):\n    return f(v) - 1")
    assert dependencies_of(root, LESSON, [reads_f]) == {"test_b": {"a", "b"}}
    assert dependencies_of(root, LESSON, [("b", "def g(v:\n")]) == {"test_b": {"b"}}, "unparsable: nothing"


def test_every_wrong_answer_of_every_lesson_is_in_exactly_one_pack_that_keeps_it_alone():
    problems = []
    for lesson in lesson_ids(REPOSITORY_ROOT):
        answers = wrong_answers(REPOSITORY_ROOT, lesson)
        groups = packs(REPOSITORY_ROOT, lesson, answers)
        placed = Counter(answer.name for group in groups for answer in group)
        if placed != Counter(answer.name for answer in answers) or max(placed.values()) != 1:
            problems.append(f"{lesson}: placed {dict(placed)}")
        dependencies = dependencies_of(REPOSITORY_ROOT, lesson, [(a.cell, a.code) for a in answers])
        for group in groups:
            if len({answer.cell for answer in group}) != len(group):
                problems.append(f"{lesson}: one cell twice in {[a.name for a in group]}")
            for test, cells in dependencies.items():
                touching = [a.name for a in group if a.cell in cells or test in a.loses]
                if len(touching) > 1:
                    problems.append(f"{lesson}: {test} is touched by {touching}")
    assert not problems, "\n".join(problems)
