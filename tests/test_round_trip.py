"""The instructor's round trip on lesson 01, graded for real: a Canvas-style export (renamed
copies, two uploads of one student, a stranger, a non-notebook, `..`, an absolute path, a link,
a fifo) collected, graded by `course grade`, the feedback and grades exported for the LMS."""
import csv
import os
import zipfile

import lms_exports as lms
import pytest
from conftest import own_code_overrides
from lean_notebooks import lean
from lms_exports import LESSON

from course import submissions
from course.collect import collect
from course.demo import make_course
from course.grade import grade
from course.gradebook import submission_score
from course.lms_export import export_feedback, export_grades
from course.paths import REPOSITORY_ROOT, feedback_html
from course.release import release

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("round_trip")]
STUDENTS = ("s001", "s002", "s003")


@pytest.fixture(scope="module")
def trip(tmp_path_factory):
    work = tmp_path_factory.mktemp("round_trip")
    root = make_course(REPOSITORY_ROOT, work / "course", [LESSON])
    release(root, [LESSON], update_readme=False)
    lms.write_roster(root / "roster.csv")
    wrong = submissions.wrong_answers(root, LESSON)[0]
    broken, _ = submissions.with_syntax_error(root, LESSON)
    # handed in without the demonstration cells no exercise needs (tests/lean_notebooks.py):
    # this test is about the files and the grades, not about training the lesson's models again
    notebooks = {
        "s001": lms.notebook_bytes(lean(submissions.answered(root, LESSON))),
        "s002": lms.notebook_bytes(lean(submissions.with_wrong_answer(root, LESSON, wrong))),
        "s003": lms.notebook_bytes(lean(broken)),                     # the later upload
        "s003_older": lms.notebook_bytes(submissions.blank(root, LESSON)),
    }
    members, expected = lms.canvas_class(notebooks)
    rows = collect(root, LESSON, lms.make_zip(work / "submissions.zip", members))
    jobs = 1 if os.environ.get("PYTEST_XDIST_WORKER") else None
    # the course's own example code: safe unsandboxed where bubblewrap is missing
    results = {r.student: r for r in grade(root, jobs=jobs, overrides=own_code_overrides(), progress=False)}
    per_student, _ = export_feedback(root, LESSON, layout="students")
    (upload,), _ = export_feedback(root, LESSON, layout="lms")
    grades_csv, _, _, _ = export_grades(root, LESSON)
    return dict(root=root, wrong=wrong, expected=expected, rows=rows, results=results,
                per_student=per_student, upload=upload, grades_csv=grades_csv)


def test_every_collected_submission_is_graded(trip):
    root, results = trip["root"], trip["results"]
    assert set(results) == set(STUDENTS)
    assert all(str(r.status) == "graded" for r in results.values()), results
    points = submissions.graded_cells(root, LESSON)
    full = sum(points.values())
    assert results["s001"].score == results["s001"].max_score == full
    assert results["s002"].score == full - sum(points[c] for c in trip["wrong"].loses)
    # s003's later upload (a syntax error) was graded, not the earlier blank one
    assert "문법 오류" in results["s003"].reason and "답하지 않음" not in results["s003"].reason


def test_every_file_not_taken_is_reported_with_its_reason(trip):
    got = {row.source: row for row in trip["rows"]}
    assert set(got) == set(trip["expected"])
    for source, (result, student, word) in trip["expected"].items():
        row = got[source]
        assert (row.outcome, row.student_id or "-") == (result, student), source
        assert word in row.reason, (source, row.reason)


def zip_contents(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_feedback_zips_hold_only_their_students_pages(trip):
    root = trip["root"]
    pages = {s: feedback_html(root, s, LESSON).read_bytes() for s in STUDENTS}
    assert len(set(pages.values())) == len(STUDENTS)
    assert sorted(p.name for p in trip["per_student"]) == [f"{s}.zip" for s in STUDENTS]
    for path in trip["per_student"]:
        assert zip_contents(path) == {f"{LESSON}.html": pages[path.stem]}
    assert zip_contents(trip["upload"]) == {
        f"kimminji_12345_67890_{LESSON}.html": pages["s001"],
        f"leejun_LATE_23456_67891_{LESSON}.html": pages["s002"],
        f"parkseo_34567_67899_{LESSON}.html": pages["s003"],
    }


def test_the_lms_grade_csv_matches_the_gradebook(trip):
    root = trip["root"]
    with open(trip["grades_csv"], newline="", encoding="utf-8") as handle:
        lms_scores = {row["ID"]: row[LESSON] for row in csv.DictReader(handle)}
    with open(root / "grades.csv", newline="", encoding="utf-8") as handle:
        nbgrader = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    for student, lms_id, _ in lms.ROSTER:
        if student in STUDENTS:
            score, _ = submission_score(root, LESSON, student)
            assert float(lms_scores[lms_id]) == score == nbgrader[student] == trip["results"][student].score
        else:  # s004's only uploads were a link and a fifo: nothing collected, no grade sent
            assert lms_scores[lms_id] == ""
