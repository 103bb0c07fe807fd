"""`course export feedback | grades`: feedback zips hold only their student's pages and are
named the way the LMS's import reads them; the grade CSV says what the gradebook says. The
gradebook is filled through nbgrader's API and the feedback pages are written by hand: no
kernels, fast."""
import csv
import re
import zipfile

import lms_exports as lms
import pytest
from lms_exports import LESSON, Member

from course import submissions
from course.cli import main
from course.collect import collect
from course.gradebook import export_csv, gradebook, review, set_flagged
from course.lms_export import ExportError, export_feedback, export_grades

pytestmark = [pytest.mark.xdist_group("released_course"),
              pytest.mark.filterwarnings("ignore:.*not in session")]
COLLECTED = ("s001", "s002", "s003")


@pytest.fixture
def course(course_copy):
    lms.write_roster(course_copy / "roster.csv")
    return course_copy


@pytest.fixture
def collected(course, tmp_path):
    """The Canvas class collected, a feedback page for each collected student and one for a
    student added by hand (s009, not from the LMS)."""
    nb = lms.notebook_bytes(submissions.answered(course, LESSON))
    members, _ = lms.canvas_class({"s001": nb, "s002": nb, "s003": nb, "s003_older": nb})
    collect(course, LESSON, lms.make_zip(tmp_path / "submissions.zip", members))
    pages = {}
    for student in COLLECTED + ("s009",):
        page = course / "feedback" / student / LESSON / f"{LESSON}.html"
        page.parent.mkdir(parents=True)
        pages[student] = f"<html><body>feedback for {student}</body></html>".encode()
        page.write_bytes(pages[student])
    return course, pages


def zip_contents(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_one_zip_per_student_holds_only_that_students_pages(collected, capsys):
    course, pages = collected
    assert main(["export", "feedback", LESSON, "--root", str(course), "--layout", "students"]) == 0
    assert "4 zips" in capsys.readouterr().out
    folder = course / "exports" / LESSON / "feedback"
    assert sorted(p.name for p in folder.iterdir()) == [f"{s}.zip" for s in sorted(pages)]
    for student, page in pages.items():
        assert zip_contents(folder / f"{student}.zip") == {f"{LESSON}.html": page}


def test_the_canvas_upload_zip_names_each_page_after_the_students_upload(collected):
    course, pages = collected
    (upload,), notes = export_feedback(course, LESSON, layout="lms")
    contents = zip_contents(upload)
    assert contents == {
        f"kimminji_12345_67890_{LESSON}.html": pages["s001"],
        f"leejun_LATE_23456_67891_{LESSON}.html": pages["s002"],
        f"parkseo_34567_67899_{LESSON}.html": pages["s003"],
    }
    assert notes == ["s009: has feedback but was not collected from the LMS: left out"]
    # How Canvas's "re-upload submissions" reads a name (Assignment#infer_comment_context_from_
    # filename): the first two all-digit parts are the user id and the uploaded file's id.
    roster = {student: lms_id for student, lms_id, _ in lms.ROSTER}
    uploads = {"s001": "67890", "s002": "67891", "s003": "67899"}
    for name, page in contents.items():
        student = next(s for s, p in pages.items() if p == page)
        user_id, attachment_id = [part for part in name.split("_") if part.isdigit()][:2]
        assert (user_id, attachment_id) == (roster[student], uploads[student])


def test_the_moodle_upload_zip_keeps_each_students_folder(course, tmp_path):
    nb = lms.notebook_bytes(submissions.answered(course, LESSON))
    roster = lms.write_roster(tmp_path / "moodle.csv", [("s001", "", "Minji Kim"),
                                                        ("s002", "", "Jun Lee")])
    export = lms.make_zip(tmp_path / "moodle.zip", [
        Member(f"Minji Kim_101_assignsubmission_file_/Copy of {LESSON}.ipynb", nb),
        Member(f"Jun Lee_102_assignsubmission_file_{LESSON}.ipynb", nb)])
    collect(course, LESSON, export, roster=roster, pattern="moodle")
    for student in ("s001", "s002"):
        page = course / "feedback" / student / LESSON / f"{LESSON}.html"
        page.parent.mkdir(parents=True)
        page.write_text(student)
    (upload,), _ = export_feedback(course, LESSON, layout="lms")
    contents = zip_contents(upload)
    assert contents == {f"Minji Kim_101_assignsubmission_file_/{LESSON}.html": b"s001",
                        f"Jun Lee_102_assignsubmission_file_{LESSON}.html": b"s002"}
    # How Moodle's feedback import reads a path (assignfeedback_file_zip_importer): a path part
    # split at "_" into at most 5 pieces, the second the participant id, then plugin type, name.
    for name in contents:
        first = name.split("/")[0].split("_", 4)
        assert first[1] in ("101", "102") and first[2:4] == ["assignsubmission", "file"]


def test_export_refuses_when_there_is_nothing_to_export(course, capsys):
    with pytest.raises(ExportError, match="no submissions of 01_parameters collected"):
        export_feedback(course, LESSON, layout="lms")
    assert main(["export", "feedback", LESSON, "--root", str(course)]) == 2
    assert "no feedback for 01_parameters" in capsys.readouterr().err


def fill_gradebook(root, points, penalties=None):
    """Scores set through nbgrader's Gradebook API: {student: fraction of each test's points},
    and late penalties {student: points}. Returns {student: (score, penalty)}."""
    with gradebook(root) as gb:
        for student, fraction in points.items():
            gb.update_or_create_student(student)
            submission = gb.add_submission(LESSON, student)
            for notebook in submission.notebooks:
                notebook.late_submission_penalty = (penalties or {}).get(student)
                for grade in notebook.grades:
                    grade.auto_score = round(grade.max_score * fraction)
            gb.db.commit()
        return {student: (gb.find_submission(LESSON, student).score,
                          gb.find_submission(LESSON, student).late_submission_penalty or 0)
                for student in points}


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_grade_csv_holds_the_gradebooks_scores_in_the_lms_layout(course, capsys):
    scores = fill_gradebook(course, {"s001": 1.0, "s002": 0.5, "s003": 0.0, "s009": 1.0},
                            penalties={"s002": 1.0, "s003": 2.0})
    expected = {student: max(0.0, score - penalty) for student, (score, penalty) in scores.items()}
    assert scores["s002"][1] == 1.0 and expected["s001"] > expected["s002"] > expected["s003"] == 0
    assert main(["export", "grades", LESSON, "--root", str(course)]) == 0
    captured = capsys.readouterr()
    assert "s009: graded but not in the roster, so no LMS id: left out" in captured.err
    path = course / f"grades_{LESSON}_lms.csv"
    rows = read_csv(path)
    assert list(rows[0]) == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", LESSON]
    by_id = {row["ID"]: row for row in rows}
    names = {lms_id: name for _, lms_id, name in lms.ROSTER}
    for student, lms_id, _ in lms.ROSTER[:3]:
        assert float(by_id[lms_id][LESSON]) == expected[student]
        assert by_id[lms_id]["Student"] == names[lms_id]
    assert by_id["45678"][LESSON] == ""  # s004 submitted nothing: the LMS keeps its own grade
    nbgrader_csv = {row["student_id"]: float(row["score"]) for row in read_csv(export_csv(course))}
    for student, lms_id, _ in lms.ROSTER[:3]:
        assert float(by_id[lms_id][LESSON]) == nbgrader_csv[student]


def test_grade_columns_are_a_setting(course):
    scores = fill_gradebook(course, {"s001": 1.0, "s002": 0.5})
    with open(course / "nbgrader_config.py", "a") as config:
        config.write('\nc.LmsExport.grade_columns = {"Username": "lms_id", '
                     '"Lesson {lesson} [Total Pts: up to {lesson}]": "score", "Max": "max_score"}'
                     '\nc.LmsExport.grades_file = "lms/{lesson}.csv"\n')
    path, header, rows, _ = export_grades(course, LESSON, roster="")
    assert path == course / "lms" / f"{LESSON}.csv"
    assert header == ["Username", f"Lesson {LESSON} [Total Pts: up to {LESSON}]", "Max"]
    assert [row[:2] for row in rows] == [["s001", format(scores["s001"][0], "g")],
                                         ["s002", format(scores["s002"][0], "g")]]
    assert all(re.fullmatch(r"\d+(\.\d+)?", row[2]) for row in rows)
    with open(course / "nbgrader_config.py", "a") as config:
        config.write('\nc.LmsExport.grade_columns = {"ID": "email"}\n')
    with pytest.raises(ExportError, match="'email' is not one of"):
        export_grades(course, LESSON)


def test_a_flagged_submissions_feedback_is_held_until_it_is_reviewed(collected):
    """Its page may show what its code printed of the checks (hidden tests included): it goes out
    only after `course review` accepts the submission."""
    course, _ = collected
    fill_gradebook(course, {"s001": 1.0, "s002": 1.0, "s003": 1.0, "s009": 1.0})
    set_flagged(course, "s002", LESSON)
    written, notes = export_feedback(course, LESSON, layout="students")
    assert sorted(p.name for p in written) == ["s001.zip", "s003.zip", "s009.zip"]
    assert notes == ["s002: flagged for review, feedback held until `course review`"]
    (upload,), _ = export_feedback(course, LESSON, layout="lms")
    assert not any("s002" in name or b"s002" in page for name, page in zip_contents(upload).items())
    review(course, "s002", LESSON, accept=True)
    written, notes = export_feedback(course, LESSON, layout="students")
    assert "s002.zip" in {p.name for p in written} and notes == []
