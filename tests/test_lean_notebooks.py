"""tests/lean_notebooks.py: which demonstration cells a lean example submission keeps."""
from lean_notebooks import lean
from nbformat.v4 import new_code_cell, new_markdown_cell
from tiny_lesson import answer_cell, graded_cell, lesson, locked_cell


def _sources(nb):
    return [cell.source for cell in nb.cells if cell.cell_type == "code"]


def _lesson(*demo_before, demo_after=()):
    return lesson(
        new_code_cell("import numpy as np"),
        *[new_code_cell(code) for code in demo_before],
        locked_cell("checks", "def check(value, expected):\n    assert value == expected"),
        answer_cell("scaled", "def scaled(x):\n    return x * factor"),
        graded_cell("test_scaled", "check(scaled(2), 2 * factor)"),
        *[new_code_cell(code) for code in demo_after])


def test_a_demonstration_cell_whose_names_no_exercise_reads_is_dropped():
    nb = _lesson("model = train()", "factor = 3")
    assert _sources(lean(nb)) == ["import numpy as np", "factor = 3", *_sources(nb)[3:]]


def test_the_latest_binding_of_a_name_an_exercise_reads_is_kept_with_what_it_reads():
    nb = _lesson("base = 2", "factor = 1", "factor = base + 1", "plot(factor)")
    assert _sources(lean(nb))[:3] == ["import numpy as np", "base = 2", "factor = base + 1"]


def test_a_cell_that_changes_a_needed_name_in_between_is_kept():
    nb = _lesson("factor = np.ones(1)", "factor.fill(3)", "factor[0] = 3", "other = factor.sum()")
    assert _sources(lean(nb))[:4] == ["import numpy as np", "factor = np.ones(1)", "factor.fill(3)",
                                      "factor[0] = 3"]


def test_cells_after_the_last_test_cell_are_dropped_and_markdown_is_kept():
    nb = _lesson("factor = 3", demo_after=["factor = 0"])
    nb.cells.append(new_markdown_cell("끝"))
    slim = lean(nb)
    assert _sources(slim)[-1] == "check(scaled(2), 2 * factor)"
    assert slim.cells[-1].source == "끝" and len(nb.cells) == len(slim.cells) + 1
