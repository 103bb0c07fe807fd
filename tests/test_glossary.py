"""The shared glossary (docs/glossary.md): every term a lesson introduces in bold with an English
gloss, `**한국어**(English)`, is in it with that English; every lesson's first markdown cell and
README link to it."""
import re

import nbformat
import pytest
from markdown_it import MarkdownIt

from course.paths import REPOSITORY_ROOT, lesson_ids

GLOSSARY = REPOSITORY_ROOT / "docs" / "glossary.md"
GLOSSARY_LINK = re.compile(r"\]\([^)]*docs/glossary\.md\)")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
ENGLISH = re.compile(r"[A-Za-z][A-Za-z' .-]*(?:\([A-Za-z² ]+\))?")
RENDERER = MarkdownIt("commonmark").enable("table")
# one concept, one term: {a variant the lessons do not use: the glossary's term}
VARIANTS = {"임계치": "임계값"}


def glossary_terms(markdown):
    """{Korean name: English} from the glossary table. A Korean column such as
    "Dense 층 (완전 연결층)" or "가중치 / 편향" gives one name per part."""
    terms = {}
    for line in markdown.splitlines():
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]  # `\|` is a pipe in a cell
        if len(cells) != 4 or cells[0] in ("용어", "") or set(cells[0]) <= set("-"):
            continue
        for name in re.split(r"\s*[(/)]\s*", cells[0]):
            if name:
                terms[name] = cells[1]
    return terms


def glossed_terms(markdown):
    """[(Korean, [English glosses])] for every bold Korean term followed right away by a
    parenthesis with English in it, as a CommonMark renderer reads the cell:
    `**결정 경계**(decision boundary)` gives ("결정 경계", ["decision boundary"]). Parts of the
    parenthesis that are not plain English words (`net = 0`, `예: 0.01`) are not glosses."""
    found = []
    for token in RENDERER.parse(markdown):
        children = token.children or []
        for i in range(len(children) - 3):
            opened, text, closed, after = children[i:i + 4]
            if (opened.type, text.type, closed.type, after.type) != ("strong_open", "text", "strong_close", "text"):
                continue
            match = re.match(r"\(([^()]*(?:\([^()]*\)[^()]*)*)\)", after.content)
            if not match or not HANGUL.search(text.content):
                continue
            glosses = [part.strip() for part in match.group(1).split(",")
                       if ENGLISH.fullmatch(part.strip()) and not HANGUL.search(part)]
            if glosses:
                found.append((text.content.strip(), glosses))
    return found


def _lesson_notebooks():
    return [pytest.param(REPOSITORY_ROOT / "source" / lesson / f"{lesson}.ipynb", id=lesson)
            for lesson in lesson_ids(REPOSITORY_ROOT)]


@pytest.mark.parametrize("path", _lesson_notebooks())
def test_every_glossed_bold_term_is_in_the_glossary(path):
    terms = glossary_terms(GLOSSARY.read_text(encoding="utf-8"))
    nb = nbformat.read(path, as_version=4)
    missing = []
    for number, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for korean, glosses in glossed_terms(cell.source):
            english = terms.get(korean, "").lower()
            if not english or not any(gloss.lower() in english for gloss in glosses):
                missing.append((number, korean, glosses))
    assert not missing, f"(cell, term, English) not in docs/glossary.md: {missing}"


@pytest.mark.parametrize("path", _lesson_notebooks())
def test_first_markdown_cell_links_the_glossary(path):
    nb = nbformat.read(path, as_version=4)
    first = next(cell for cell in nb.cells if cell.cell_type == "markdown")
    assert GLOSSARY_LINK.search(first.source), f"{path.name}: the first markdown cell has no link to docs/glossary.md"


@pytest.mark.parametrize("path", _lesson_notebooks())
def test_one_term_per_concept(path):
    nb = nbformat.read(path, as_version=4)
    used = {(number, variant) for number, cell in enumerate(nb.cells) for variant in VARIANTS
            if variant in cell.source}
    assert not used, f"(cell, variant) where the glossary's term is meant: {sorted(used)} ({VARIANTS})"


def test_readme_links_the_glossary():
    assert GLOSSARY_LINK.search((REPOSITORY_ROOT / "README.md").read_text(encoding="utf-8"))


def test_glossary_lists_each_term_once():
    rows = [line.split("|")[1].strip() for line in GLOSSARY.read_text(encoding="utf-8").splitlines()
            if line.startswith("| ") and not line.startswith("| 용어 ")]
    assert len(rows) == len(set(rows)), sorted({row for row in rows if rows.count(row) > 1})


@pytest.mark.parametrize(("markdown", "found"), [
    pytest.param("생물의 **뉴런**(neuron)은", [("뉴런", ["neuron"])], id="term"),
    pytest.param("**자연상수**(오일러 수, Euler's number)", [("자연상수", ["Euler's number"])], id="korean-first"),
    pytest.param("**다층 퍼셉트론**(multi-layer perceptron (MLP))", [("다층 퍼셉트론", ["multi-layer perceptron (MLP)"])],
                 id="nested-parenthesis"),
    pytest.param("**바로 위**(net = 0), **백분율**(%), **BCE**(배치 평균), **뉴런** (neuron)", [], id="not-a-gloss"),
    pytest.param("`**뉴런**(neuron)`", [], id="code"),
])
def test_glossed_terms_are_found(markdown, found):
    assert glossed_terms(markdown) == found


def test_glossary_terms_split_alternative_names():
    table = ("| 용어 | English | 뜻 | 처음 |\n|---|---|---|---|\n| Dense 층 (완전 연결층) | dense layer | … | 01 |\n"
             "| 평균 절대 오차 | mean absolute error (MAE) | (1/n) Σ \\|ŷ − y\\| | 01 |\n")
    assert glossary_terms(table) == {"Dense 층": "dense layer", "완전 연결층": "dense layer",
                                     "평균 절대 오차": "mean absolute error (MAE)"}
