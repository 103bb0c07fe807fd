"""`course collect`: LMS exports (Canvas, Moodle, Blackboard, a custom pattern; a zip or a
folder) into submitted/, every file taken, skipped or refused with its reason, nothing of a
hostile export written outside the course. No kernels: fast."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import lms_exports as lms
import nbformat
import pytest
from lms_exports import LESSON, Member

from course import submissions
from course.cli import main
from course.collect import CollectError, collect, read_record, record_path, table_text
from course.lms_collector import notebook_name
from course.roster import Roster, RosterError, unsafe_student_id

pytestmark = pytest.mark.xdist_group("released_course")


@pytest.fixture
def course(tmp_path, released_course):
    root = tmp_path / "course"
    shutil.copytree(released_course, root)
    lms.write_roster(root / "roster.csv")
    return root


@pytest.fixture
def notebooks(released_course):
    answered = submissions.answered(released_course, LESSON)
    blank = submissions.blank(released_course, LESSON)
    return {"s001": lms.notebook_bytes(answered, "s001"), "s002": lms.notebook_bytes(blank, "s002"),
            "s003": lms.notebook_bytes(answered, "s003 latest"),
            "s003_older": lms.notebook_bytes(blank, "s003 older")}


def marker(root, student):
    path = root / "submitted" / student / LESSON / f"{LESSON}.ipynb"
    return nbformat.read(path, as_version=4).metadata["marker"]


def outcomes(rows):
    return {row.source: (row.outcome, row.student_id or "-", row.reason) for row in rows}


def test_canvas_export_takes_one_notebook_per_student_and_says_why_for_the_rest(
        course, notebooks, tmp_path, capsys):
    members, expected = lms.canvas_class(notebooks)
    export = lms.make_zip(tmp_path / "submissions.zip", members)
    assert main(["collect", LESSON, str(export), "--root", str(course)]) == 0
    printed = capsys.readouterr().out
    rows = read_record(record_path(course, LESSON))
    got = outcomes(rows)
    assert set(got) == set(expected)
    for source, (result, student, word) in expected.items():
        assert got[source][:2] == (result, student), source
        assert word in got[source][2], (source, got[source])
        assert source in printed
    assert "3 taken into submitted/, 3 skipped, 4 refused" in printed
    assert sorted(os.listdir(course / "submitted")) == ["s001", "s002", "s003"]
    assert [marker(course, s) for s in ("s001", "s002", "s003")] == ["s001", "s002", "s003 latest"]
    for student in ("s001", "s002", "s003"):  # Canvas puts no time in the name: no timestamp.txt
        assert os.listdir(course / "submitted" / student / LESSON) == [f"{LESSON}.ipynb"]


def test_a_hostile_export_writes_nothing_outside_and_no_link(course, notebooks, tmp_path):
    members, _ = lms.canvas_class(notebooks)
    members.append(Member(f"clear\x1b[2J_12345_67900_{LESSON}.ipynb", notebooks["s001"]))
    export = lms.make_zip(tmp_path / "submissions.zip", members)
    rows = collect(course, LESSON, export)
    escaped = outcomes(rows)[f"clear\\x1b[2J_12345_67900_{LESSON}.ipynb"]
    assert escaped == ("refused", "-", "control character in the name")
    assert "\x1b" not in table_text(rows)
    names = [p.name for p in tmp_path.rglob("*")]
    assert not any(name.startswith(("escape_", "absolute_", "hanbyul_")) for name in names)
    assert not Path(f"/tmp/absolute_45678_67897_{LESSON}.ipynb").exists()
    assert not any(p.is_symlink() for p in course.rglob("*"))
    # nbgrader's own extractor writes the link member as a file holding its target
    assert not any(p.read_bytes() == b"/etc/passwd" for p in course.rglob("*") if p.is_file())
    extracted = course / "downloaded" / LESSON / "extracted"
    assert all(p.stat().st_mode & 0o7111 == 0 for p in extracted.rglob("*") if p.is_file())


def test_moodle_folders_flat_names_and_two_files_latest_by_file_time(course, notebooks, tmp_path):
    # Moodle's participant ids (101...) are not the roster's ids: the names match, in any order
    export = lms.make_zip(tmp_path / "moodle.zip", [
        Member(f"Minji Kim_101_assignsubmission_file_/{LESSON}.ipynb", notebooks["s003_older"],
               date=(2026, 11, 30, 10, 0, 0)),
        Member(f"Minji Kim_101_assignsubmission_file_/{LESSON} (1).ipynb", notebooks["s001"],
               date=(2026, 11, 30, 11, 0, 0)),
        Member(f"Jun Lee_102_assignsubmission_file/Copy of {LESSON}.ipynb", notebooks["s002"]),
        Member(f"Seo Park_103_assignsubmission_file_{LESSON}.ipynb", notebooks["s003"]),
        Member("Seo Park_103_assignsubmission_onlinetext_/onlinetext.html", b"<p>hi</p>"),
    ])
    rows = outcomes(collect(course, LESSON, export, pattern="moodle"))
    assert rows[f"Minji Kim_101_assignsubmission_file_/{LESSON} (1).ipynb"][:2] == ("taken", "s001")
    older = rows[f"Minji Kim_101_assignsubmission_file_/{LESSON}.ipynb"]
    assert older[:2] == ("skipped", "s001") and "the file time in the export" in older[2]
    assert rows[f"Jun Lee_102_assignsubmission_file/Copy of {LESSON}.ipynb"][:2] == ("taken", "s002")
    assert rows[f"Seo Park_103_assignsubmission_file_{LESSON}.ipynb"][:2] == ("taken", "s003")
    assert rows["Seo Park_103_assignsubmission_onlinetext_/onlinetext.html"][2] == "not a notebook"
    assert [marker(course, s) for s in ("s001", "s002", "s003")] == ["s001", "s002", "s003 latest"]
    prefixes = {r.student_id: r.lms_prefix for r in read_record(record_path(course, LESSON))
                if r.outcome == "taken"}
    assert prefixes == {"s001": "Minji Kim_101_assignsubmission_file_/",
                        "s002": "Jun Lee_102_assignsubmission_file/",
                        "s003": "Seo Park_103_assignsubmission_file_"}


def test_blackboard_attempts_latest_by_the_lms_time_which_becomes_timestamp_txt(
        course, notebooks, tmp_path):
    roster = lms.write_roster(tmp_path / "bb.csv", [("s001", "kminji", ""), ("s002", "ljun", "")])
    early, late = "2026-11-30-10-00-00", "2026-11-30-12-30-00"
    export = lms.make_zip(tmp_path / "bb.zip", [
        Member(f"Lesson 01_kminji_attempt_{late}_{LESSON} (1).ipynb", notebooks["s001"],
               date=(2026, 11, 30, 9, 0, 0)),
        Member(f"Lesson 01_kminji_attempt_{early}_{LESSON}.ipynb", notebooks["s003_older"]),
        Member(f"Lesson 01_kminji_attempt_{late}.txt", b"Name: Minji Kim"),
        Member(f"Lesson 01_ljun_attempt_{early}_homework.ipynb", notebooks["s002"]),
    ])
    rows = outcomes(collect(course, LESSON, export, roster=roster, pattern="blackboard"))
    assert rows[f"Lesson 01_kminji_attempt_{late}_{LESSON} (1).ipynb"][:2] == ("taken", "s001")
    assert "the LMS's time" in rows[f"Lesson 01_kminji_attempt_{early}_{LESSON}.ipynb"][2]
    assert rows[f"Lesson 01_kminji_attempt_{late}.txt"][2] == "not a notebook"
    assert rows[f"Lesson 01_ljun_attempt_{early}_homework.ipynb"] == (
        "skipped", "s002", f"a notebook not named {LESSON}.ipynb")
    assert marker(course, "s001") == "s001"
    timestamp = (course / "submitted" / "s001" / LESSON / "timestamp.txt").read_text()
    assert timestamp == "2026-11-30 12:30:00"


def test_an_unzipped_export_folder_refuses_links_and_special_files(course, notebooks, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("instructor's secret")
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / f"kimminji_12345_67890_{LESSON}.ipynb").write_bytes(notebooks["s001"])
    (folder / f"leejun_23456_67891_{LESSON}.ipynb").symlink_to(secret)
    (folder / "linked_folder").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(folder / f"parkseo_34567_67892_{LESSON}.ipynb")
    rows = outcomes(collect(course, LESSON, folder))
    assert rows[f"kimminji_12345_67890_{LESSON}.ipynb"][:2] == ("taken", "s001")
    assert rows[f"leejun_23456_67891_{LESSON}.ipynb"] == ("refused", "-", "symbolic link")
    assert rows["linked_folder"] == ("refused", "-", "symbolic link")
    assert rows[f"parkseo_34567_67892_{LESSON}.ipynb"][0] == "refused"
    assert "special file" in rows[f"parkseo_34567_67892_{LESSON}.ipynb"][2]
    assert not any(b"instructor's secret" in p.read_bytes() for p in course.rglob("*")
                   if p.is_file() and not p.is_symlink())


def test_a_zip_a_student_uploaded_is_unpacked_once_and_limits_hold(course, notebooks, tmp_path):
    inner = lms.make_zip(tmp_path / "inner.zip", [Member(f"work/{LESSON}.ipynb", notebooks["s001"])])
    deeper = lms.make_zip(tmp_path / "deeper.zip", [Member("again.zip", inner.read_bytes())])
    with open(course / "nbgrader_config.py", "a") as config:
        config.write("\nc.SafeExtractor.max_member_bytes = 200_000\n")
    export = lms.make_zip(tmp_path / "submissions.zip", [
        Member("kimminji_12345_67890_work.zip", inner.read_bytes()),
        Member("leejun_23456_67891_deeper.zip", deeper.read_bytes()),
        Member(f"parkseo_34567_67892_{LESSON}.ipynb", b" " * 300_000),
    ])
    rows = outcomes(collect(course, LESSON, export))
    assert rows[f"kimminji_12345_67890_work/work/{LESSON}.ipynb"][:2] == ("taken", "s001")
    assert "nested 3 deep" in rows["leejun_23456_67891_deeper/again.zip"][2]
    assert "over the limit" in rows[f"parkseo_34567_67892_{LESSON}.ipynb"][2]
    assert sorted(os.listdir(course / "submitted")) == ["s001"]


def test_a_file_in_one_students_upload_never_counts_for_another(course, notebooks, tmp_path):
    """A zip (or folder) that kimminji uploaded, holding a file named like leejun's latest upload,
    is kimminji's: it cannot replace leejun's own."""
    planted = lms.make_zip(tmp_path / "planted.zip", [
        Member(f"leejun_23456_99999_{LESSON}.ipynb", notebooks["s003"])])
    export = lms.make_zip(tmp_path / "submissions.zip", [
        Member(f"kimminji_12345_67890_{LESSON}.ipynb", notebooks["s001"]),
        Member(f"leejun_23456_67891_{LESSON}.ipynb", notebooks["s002"]),
        Member("kimminji_12345_67906_hw.zip", planted.read_bytes()),
        Member(f"kimminji_12345_67907_folder/leejun_23456_99998_{LESSON}.ipynb", notebooks["s003"]),
    ])
    rows = outcomes(collect(course, LESSON, export))
    assert rows[f"kimminji_12345_67906_hw/leejun_23456_99999_{LESSON}.ipynb"][0] == "skipped"
    assert "inside the upload of s001" in rows[f"kimminji_12345_67906_hw/leejun_23456_99999_{LESSON}.ipynb"][2]
    assert rows[f"kimminji_12345_67907_folder/leejun_23456_99998_{LESSON}.ipynb"][0] == "skipped"
    assert marker(course, "s002") == "s002"


def test_an_older_upload_says_what_made_the_other_later(course, notebooks, tmp_path):
    export = lms.make_zip(tmp_path / "submissions.zip", [
        Member(f"parkseo_34567_67892_{LESSON}.ipynb", notebooks["s003_older"], date=(2026, 11, 30, 12, 0, 0)),
        Member(f"parkseo_34567_67899_{LESSON} (1).ipynb", notebooks["s003"], date=(2026, 11, 30, 12, 0, 0)),
    ])
    rows = outcomes(collect(course, LESSON, export))
    assert "later by the LMS's upload number" in rows[f"parkseo_34567_67892_{LESSON}.ipynb"][2]


def test_collecting_again_replaces_a_submission_only_with_force(course, notebooks, tmp_path):
    first = lms.make_zip(tmp_path / "first.zip", [
        Member(f"kimminji_12345_67890_{LESSON}.ipynb", notebooks["s003_older"])])
    again = lms.make_zip(tmp_path / "again.zip", [
        Member(f"kimminji_12345_67999_{LESSON}.ipynb", notebooks["s001"])])
    collect(course, LESSON, first)
    rows = outcomes(collect(course, LESSON, again))
    assert rows[f"kimminji_12345_67999_{LESSON}.ipynb"][0] == "skipped"
    assert "--force replaces it" in rows[f"kimminji_12345_67999_{LESSON}.ipynb"][2]
    assert marker(course, "s001") == "s003 older"
    rows = outcomes(collect(course, LESSON, again, force=True))
    assert rows[f"kimminji_12345_67999_{LESSON}.ipynb"][0] == "taken"
    assert marker(course, "s001") == "s001"


def test_without_a_roster_unsafe_ids_from_file_names_are_refused_as_folder_names(
        course, notebooks, tmp_path):
    with open(course / "nbgrader_config.py", "a") as config:
        config.write('\nc.LmsCollect.pattern = "custom"\n'
                     'c.LmsCollect.named_regexp = r".*/(?P<student_id>[^/]+)__(?P<file_id>[^/]+)$"\n')
    names = ["alice", "a*b", "-rf", "x y", "c[1]"]
    export = lms.make_zip(tmp_path / "custom.zip", [
        Member(f"{name}__{LESSON}.ipynb", notebooks["s001"]) for name in names])
    rows = outcomes(collect(course, LESSON, export, roster=""))
    assert rows[f"alice__{LESSON}.ipynb"][:2] == ("taken", "alice")
    for name in names[1:]:
        assert rows[f"{name}__{LESSON}.ipynb"][0] == "skipped"
        assert "unsafe student id" in rows[f"{name}__{LESSON}.ipynb"][2]
    assert os.listdir(course / "submitted") == ["alice"]


def test_settings_and_roster_problems_stop_before_any_file_moves(course, notebooks, tmp_path,
                                                                 capsys):
    export = lms.make_zip(tmp_path / "s.zip", [Member(f"kimminji_12345_1_{LESSON}.ipynb",
                                                      notebooks["s001"])])
    bad = lms.write_roster(tmp_path / "bad.csv", [("../s001", "12345", "Kim, Minji")])
    with pytest.raises(RosterError, match="line 2: unsafe student id"):
        collect(course, LESSON, export, roster=bad)
    assert main(["collect", LESSON, str(export), "--root", str(course), "--roster",
                 str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv not found" in capsys.readouterr().err
    with pytest.raises(CollectError, match="not a zip"):
        collect(course, LESSON, lms.write_roster(tmp_path / "x.zip"))
    with pytest.raises(CollectError, match="named_regexp is not set"):
        collect(course, LESSON, export, pattern="custom")
    assert not (course / "downloaded").exists() or not any((course / "downloaded").rglob("*.ipynb"))
    assert not (course / "submitted").exists()


def test_plain_nbgrader_zip_collect_uses_the_same_plugins(course, notebooks):
    members, _ = lms.canvas_class(notebooks)
    archive = course / "downloaded" / LESSON / "archive"
    archive.mkdir(parents=True)
    lms.make_zip(archive / "submissions.zip", members)
    done = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "zip_collect", LESSON],
                          cwd=course, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(os.listdir(course / "submitted")) == ["s001", "s002", "s003"]
    assert marker(course, "s003") == "s003 latest"
    assert "Refused ../escape_12345_67895" in done.stderr
    assert not any(p.name.startswith("escape_") for p in course.parent.rglob("*"))


@pytest.mark.parametrize("name, expected", [
    (f"{LESSON}.ipynb", (f"{LESSON}.ipynb", False)),
    (f"Copy of {LESSON}.ipynb", (f"{LESSON}.ipynb", True)),
    (f"{LESSON} (1).ipynb", (f"{LESSON}.ipynb", True)),
    (f"Copy of {LESSON} (2).ipynb", (f"{LESSON}.ipynb", True)),
    (f"{LESSON} - Copy.ipynb", (f"{LESSON}.ipynb", True)),
    (f"{LESSON}-1.ipynb", (f"{LESSON}.ipynb", True)),
    (f"sub/{LESSON}.IPYNB", (f"{LESSON}.ipynb", True)),
    (f"{LESSON}.ipynb.txt", (None, False)),
    ("02_activations.ipynb", (None, False)),
    (f"my_{LESSON}.ipynb", (None, False)),
])
def test_renamed_copies_of_the_lesson_notebook_are_recognised(name, expected):
    assert notebook_name(name, LESSON) == expected


def test_roster_matches_ids_and_names_and_refuses_a_conflict(tmp_path):
    roster = Roster.load(lms.write_roster(tmp_path / "r.csv"))
    assert roster.find(lms_id="12345")[0].student_id == "s001"
    assert roster.find(lms_name="kimminji")[0].student_id == "s001"  # Canvas's file-name form
    assert roster.find(lms_name="KIM, MINJI")[0].student_id == "s001"
    assert roster.find(lms_name="Minji Kim")[0].student_id == "s001"  # Moodle's order
    assert roster.find(lms_id="12345", lms_name="Minji Kim")[0].student_id == "s001"
    student, why = roster.find(lms_id="12345", lms_name="leejun")
    assert student is None and "roster says lms id 12345 is 'Kim, Minji'" in why
    assert roster.find(lms_id="777")[1].startswith("unknown student")
    twice = lms.write_roster(tmp_path / "twice.csv", [("s1", "1", "A"), ("s2", "1", "B")])
    with pytest.raises(RosterError, match="lms_id 1 is already on line 2"):
        Roster.load(twice)
    (tmp_path / "header.csv").write_text("id,name\ns1,A\n")
    with pytest.raises(RosterError, match="header must name student_id"):
        Roster.load(tmp_path / "header.csv")


@pytest.mark.parametrize("student_id", ["", "..", "a/b", "a\\b", "*", "a?", "[a]", "-a", ".a",
                                        "a\nb", "a\x00b", "a b", "x" * 101])
def test_unsafe_student_ids(student_id):
    assert unsafe_student_id(student_id)


@pytest.mark.parametrize("student_id", ["s001", "kim.minji", "20261234", "김민지", "a_b-c@x.kr"])
def test_safe_student_ids(student_id):
    assert unsafe_student_id(student_id) is None
