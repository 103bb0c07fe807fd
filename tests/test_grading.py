"""`course grade` on a class of good and bad submissions (tests/bad_class.py): every status and
score, nothing modified, nothing stale, an idempotent rerun, and the sandbox's denials."""
import base64
import csv
import hashlib
import re
from pathlib import Path

import bad_class
import nbformat
import pytest
from conftest import needs_bubblewrap
from test_lessons import _hidden_test_lines

from course import submissions
from course.demo import make_course
from course.grade import grade
from course.gradebook import submission_score
from course.paths import REPOSITORY_ROOT
from course.release import release
from course.report import write_report

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("bad_class"), needs_bubblewrap]
# A kernel needs about 15 processes and threads; with 128 the fork flood (bad_class "floods")
# reaches the limit after ~110 forks. At 512 forks of a TensorFlow kernel a loaded machine ran
# into the cell timeout first.
# Lesson 02's slowest honest cell takes 0.2 s alone, and the output flood of "floods" about 3 s
# with the class on both cores; the two loops of "stuck" each cost the timeout.
TIMEOUT = {"Execute": {"timeout": 12}, "ResilientExecute": {"interrupt_grace_seconds": 3},
           "SandboxedKernelManager": {"processes": 128}}
LESSON = bad_class.LESSON
# "colab_paste" (graded in full the first time) is then resubmitted as a file that is no notebook
RESUBMITTED = "colab_paste"
HIDDEN = _hidden_test_lines(LESSON)
RERUN = ["correct", "os_exit", "corrupt", "tampered", RESUBMITTED]


def _snapshot(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    root = make_course(REPOSITORY_ROOT, tmp_path_factory.mktemp("class"), [LESSON])
    release(root, [LESSON], update_readme=False)
    cases = bad_class.build(root)
    Path("/tmp/SNOOPED.txt").unlink(missing_ok=True)
    before = _snapshot(root / "submitted")
    results = {r.student: r for r in grade(root, overrides=TIMEOUT, progress=False)}
    after = _snapshot(root / "submitted")
    return root, {c.student: c for c in cases}, results, before, after


def test_every_submission_gets_its_status_score_and_reason(graded_class):
    _, cases, results, _, _ = graded_class
    assert set(results) == set(cases)
    wrong = []
    for student, case in cases.items():
        result = results[student]
        if (str(result.status), result.score) != (case.status, case.score) or not all(
                word in result.reason for word in case.noted):
            wrong.append(f"{student}: got {result.status} {result.score:g} [{result.reason}], "
                         f"expected {case.status} {case.score:g} with {case.noted}")
    assert not wrong, "\n".join(wrong)


def test_submitted_is_never_modified(graded_class):
    _, _, _, before, after = graded_class
    assert before == after


def test_grades_csv_holds_every_student_with_this_runs_score(graded_class):
    root, cases, results, _, _ = graded_class
    with open(root / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: float(row["score"]) if row["score"] else None
                for row in csv.DictReader(handle) if row["assignment"] == LESSON}
    graded = {s for s, r in results.items() if str(r.status) == "graded"}
    assert {s: rows[s] for s in graded} == {s: results[s].score for s in graded}
    flagged = {s for s, r in results.items() if str(r.status) == "flagged"}
    assert flagged and {s: rows[s] for s in flagged} == dict.fromkeys(flagged, None), "withheld"
    for student in set(cases) - graded - flagged:  # missing, empty, corrupt: no score is kept
        assert rows.get(student, 0.0) == 0.0
        assert submission_score(root, LESSON, student) is None


def test_the_sandbox_denied_every_snoop(graded_class):
    root, _, _, _, _ = graded_class
    nb = nbformat.read(root / "autograded" / "snoop" / LESSON / f"{LESSON}.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                      for o in c.outputs)
    assert "read 0 files" in printed
    assert printed.count("write denied") == 2  # gradebook.db and the course root; /tmp is private
    assert "BEGIN HIDDEN TESTS" not in printed
    assert b"SNOOPED" not in (root / "gradebook.db").read_bytes()
    assert not (root / "SNOOPED.txt").exists() and not Path("/tmp/SNOOPED.txt").exists()


def test_feedback_for_every_graded_submission_hides_the_hidden_tests(graded_class):
    root, _, results, _, _ = graded_class
    for student, result in results.items():
        page = root / "feedback" / student / LESSON / f"{LESSON}.html"
        assert page.is_file() == (str(result.status) in ("graded", "flagged")), student
        if page.is_file():
            text = page.read_text()
            assert "BEGIN HIDDEN TESTS" not in text and not [line for line in HIDDEN if line in text]


def test_report_shows_statuses_exercises_and_histogram(graded_class):
    root, cases, results, _, _ = graded_class
    page = write_report(root, list(results.values()))
    text = page.read_text()
    # A student's row, not just the name: "missing", "empty" and "corrupt" are also statuses.
    absent = [student for student in cases if f"<tr><td>{student}</td><td>{LESSON}</td>" not in text]
    assert not absent, f"no row in the report for {absent}"
    picture = (root / "reports" / "scores.png").read_bytes()
    embedded = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert [base64.b64decode(data) for data in embedded] == [picture] and len(picture) > 1000
    with open(root / "reports" / "exercises.csv", newline="") as handle:
        exercises = {row["exercise"]: float(row["passing (%)"]) for row in csv.DictReader(handle)}
    assert set(exercises) == set(submissions.graded_cells(root, LESSON))
    assert all(0 < share < 100 for share in exercises.values())


def test_rerun_is_idempotent_and_a_failed_resubmission_keeps_no_stale_score(graded_class):
    root, _, first, _, _ = graded_class
    assert (str(first[RESUBMITTED].status), first[RESUBMITTED].score) == ("graded", bad_class.FULL)
    (root / "submitted" / RESUBMITTED / LESSON / f"{LESSON}.ipynb").write_text("not a notebook")
    again = {r.student: r for r in grade(root, students=RERUN, overrides=TIMEOUT, progress=False)}
    for student in set(RERUN) - {RESUBMITTED}:
        assert (again[student].status, again[student].score) == (first[student].status,
                                                                 first[student].score)
    assert (str(again[RESUBMITTED].status), again[RESUBMITTED].score) == ("corrupt", 0)
    assert submission_score(root, LESSON, RESUBMITTED) is None
    assert not (root / "autograded" / RESUBMITTED / LESSON).exists()
    with open(root / "grades.csv", newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["student_id"] == RESUBMITTED)
    assert float(row["score"]) == 0.0
