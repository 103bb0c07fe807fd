"""course.status: one table of statuses and notes, each in Korean with the English in parentheses."""
import re

import pytest

from course import status
from course.status import Note, Status

HANGUL = re.compile(r"[가-힣]")
ENGLISH_IN_PARENTHESES = re.compile(r"\([^()]*[A-Za-z]{3}[^()]*\)")


def _bilingual(text):
    return bool(HANGUL.search(text)) and bool(ENGLISH_IN_PARENTHESES.search(text))


def test_every_status_has_a_unique_label_and_a_korean_and_english_text():
    wrong = [member.name for member in Status if not (
        re.fullmatch(r"[a-z]+", member.label) and str(member) == member.label and _bilingual(member.text))]
    assert not wrong
    assert len({member.label for member in Status}) == len(Status)


def test_every_note_is_korean_and_english():
    assert [member.name for member in Note if not _bilingual(member.value)] == []


def test_what_students_see_in_their_notebooks_is_korean_and_english():
    names = ["OUTPUT_TRUNCATED", "KERNEL_RESTARTED", "KERNEL_DIED_IN_CELL", "SKIPPED_AFTER_DEATHS",
             "HIDDEN_TESTS_PLACEHOLDER", "HIDDEN_LINE_REMOVED", "FEEDBACK_PLAIN", "CELL_WOULD_NOT_STOP",
             "PROCESSES_LEFT"]
    assert [name for name in names if not _bilingual(getattr(status, name))] == []


def test_say_gives_the_text_alone_or_with_its_detail():
    assert Note.TIMEOUT.say() == "시간 초과 (timeout)"
    assert Note.TIMEOUT.say("double, test_double") == "시간 초과 (timeout): double, test_double"


def test_say_fills_the_fields_of_the_text():
    assert Note.EXCEPTION.say(ename="ZeroDivisionError") == "오류 (exception ZeroDivisionError)"
    assert Note.NO_NOTEBOOK.say(lesson="01_parameters") == (
        "제출된 노트북이 없습니다 (no 01_parameters.ipynb submitted)")
    assert Note.SEVERAL_NOTEBOOKS.say("a.ipynb, b.ipynb", lesson="01_x") == (
        "01_x.ipynb가 없고 노트북이 여러 개입니다 (several notebooks, none named 01_x.ipynb): a.ipynb, b.ipynb")


def test_a_field_left_out_is_an_error_not_a_blank():
    with pytest.raises(KeyError, match="ename"):
        Note.EXCEPTION.say()


def test_details_are_not_read_as_fields():
    assert Note.NOT_JSON.say("{broken") == "JSON이 아닙니다 (not JSON): {broken"



def test_the_readme_explains_every_status_and_no_other():
    from course.paths import REPOSITORY_ROOT
    readme = (REPOSITORY_ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("| status | meaning | score |", 1)[1].split("\n\n", 1)[0]
    named = set(re.findall(r"^\| `([a-z]+)`(?: / `([a-z]+)`)?", table, flags=re.M))
    assert {label for pair in named for label in pair if label} == {str(s) for s in Status}
