"""Markdown cells render as their authors meant: no emphasis marker is left over as a literal
`**`, `__`, `*x*` or `_x_` when a CommonMark renderer (markdown-it-py, as JupyterLab and Colab
follow CommonMark's emphasis rules) reads them. Math between `$` is set aside first, as the
notebook front ends do before they render markdown."""
import re

import nbformat
import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

from course.paths import REPOSITORY_ROOT, lesson_ids

RENDERER = MarkdownIt("commonmark").enable("table").use(dollarmath_plugin, double_inline=True)

# What a delimiter that did not become emphasis leaves in the text: a double marker anywhere, or
# a single one that hugs a word on both sides (`*뉴런*은`) as emphasis would. `a * b` and
# intraword underscores (fan_in, y_k) are not emphasis in CommonMark and stay allowed.
LEFTOVER = re.compile(r"\*\*|__|\*[^\s*](?:[^*]*[^\s*])?\*|(?<!\w)_[^\s_](?:[^_]*[^\s_])?_")


def leftover_markers(markdown):
    """[(marker, the rendered text around it)] for the emphasis markers left in the rendered
    text (not code, not math)."""
    found = []
    for token in RENDERER.parse(markdown):
        for child in token.children or []:
            if child.type == "text":
                found += [(match.group(0), child.content[max(0, match.start() - 15):match.end() + 15])
                          for match in LEFTOVER.finditer(child.content)]
    return found


def _notebooks():
    for folder in ("source", "release"):
        for lesson in lesson_ids(REPOSITORY_ROOT):
            yield pytest.param(REPOSITORY_ROOT / folder / lesson / f"{lesson}.ipynb", id=f"{folder}-{lesson}")


@pytest.mark.parametrize("path", _notebooks())
def test_every_markdown_cell_renders_its_emphasis(path):
    nb = nbformat.read(path, as_version=4)
    broken = {number: leftover_markers(cell.source) for number, cell in enumerate(nb.cells)
              if cell.cell_type == "markdown"}
    broken = {number: found for number, found in broken.items() if found}
    assert not broken, f"cells (0-based) with emphasis markers left as text: {broken}"


@pytest.mark.parametrize(("markdown", "left"), [
    pytest.param("생물의 **뉴런(neuron)**은 신호를 받습니다", ["**", "**"], id="bold-paren-particle"),
    pytest.param("이 강의는 004의 **≥**를 따릅니다", ["**", "**"], id="bold-symbol-particle"),
    pytest.param("*뉴런(neuron)*은", ["*뉴런(neuron)*"], id="italic-paren-particle"),
    pytest.param("__굵게(bold)__는", ["__", "__"], id="underscore-bold"),
    pytest.param("_기울임(italic)_은", ["_기울임(italic)_"], id="underscore-italic"),
    pytest.param("생물의 **뉴런**(neuron)은 신호를 받습니다", [], id="bold-before-paren"),
    pytest.param("**Dense(1, 활성화 없음)**. 그리고 *기울임*, _기울임_", [], id="closed-by-punctuation"),
    pytest.param("`x ** 2`, $w_1 x_1 * w_2$, $$a_i * b_i$$, fan_in, y_k, (3열 * 2행)", [],
                 id="code-math-intraword-spaced"),
    pytest.param("| 층 | 파라미터 |\n|---|---|\n| 합계 | **21** |", [], id="table"),
])
def test_leftover_markers_are_found(markdown, left):
    assert [marker for marker, _ in leftover_markers(markdown)] == left
