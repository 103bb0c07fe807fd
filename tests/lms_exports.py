"""LMS-style exports for the collect tests: zips laid out as Canvas, Moodle and Blackboard
lay out "download all submissions", with the things students and archives do (renamed copies,
two uploads, strangers, other files) and the things a hostile archive holds (`..`, absolute
paths, links, special files)."""
import csv
import stat
import zipfile
from dataclasses import dataclass

import nbformat

LESSON = "01_parameters"
# student_id, Canvas user id, Canvas sortable name
ROSTER = [("s001", "12345", "Kim, Minji"), ("s002", "23456", "Lee, Jun"),
          ("s003", "34567", "Park, Seo"), ("s004", "45678", "Han, Byul")]


@dataclass
class Member:
    name: str
    data: bytes = b""
    kind: str = "file"   # file, symlink, fifo
    date: tuple = (2026, 11, 30, 10, 0, 0)


def make_zip(path, members):
    """A zip holding `members` as given: names are not cleaned, link and fifo members carry
    their Unix file type in the external attributes, as `zip --symlinks` writes them."""
    modes = {"file": stat.S_IFREG | 0o644, "symlink": stat.S_IFLNK | 0o777,
             "fifo": stat.S_IFIFO | 0o644}
    with zipfile.ZipFile(path, "w") as archive:
        for member in members:
            info = zipfile.ZipInfo(member.name, date_time=member.date)
            info.create_system = 3
            info.external_attr = modes[member.kind] << 16
            archive.writestr(info, member.data)
    return path


def write_roster(path, students=ROSTER):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "lms_id", "lms_name"])
        writer.writerows(students)
    return path


def notebook_bytes(nb, marker=""):
    """A notebook's file; `marker` goes into its metadata so a test can tell copies apart."""
    nb = nbformat.from_dict(nb)
    nb.metadata["marker"] = marker
    return nbformat.writes(nb).encode("utf-8")


def canvas_class(notebooks):
    """Canvas members for `notebooks` (a dict: s001, s002, s003, s003_older -> notebook file)
    and the files that must not be taken. Returns (members, expected), expected mapping each
    member name to (result, student, a word of the reason)."""
    members = [
        Member(f"kimminji_12345_67890_{LESSON}.ipynb", notebooks["s001"]),
        Member(f"leejun_LATE_23456_67891_Copy of {LESSON}.ipynb", notebooks["s002"]),
        Member(f"parkseo_34567_67892_{LESSON}.ipynb", notebooks["s003_older"],
               date=(2026, 11, 30, 12, 0, 0)),
        Member(f"parkseo_34567_67899_{LESSON}-1.ipynb", notebooks["s003"],
               date=(2026, 11, 30, 11, 0, 0)),  # a later upload, an earlier file time
        Member(f"choiunknown_99999_67893_{LESSON}.ipynb", notebooks["s001"]),
        Member("kimminji_12345_67894_notes.txt", b"my notes"),
        Member(f"../escape_12345_67895_{LESSON}.ipynb", notebooks["s001"]),
        Member(f"/tmp/absolute_45678_67897_{LESSON}.ipynb", notebooks["s001"]),
        Member(f"hanbyul_45678_67896_{LESSON}.ipynb", b"/etc/passwd", kind="symlink"),
        Member(f"hanbyul_45678_67898_{LESSON}.ipynb", b"", kind="fifo"),
    ]
    expected = {
        f"kimminji_12345_67890_{LESSON}.ipynb": ("taken", "s001", ""),
        f"leejun_LATE_23456_67891_Copy of {LESSON}.ipynb": ("taken", "s002", "renamed copy"),
        f"parkseo_34567_67899_{LESSON}-1.ipynb": ("taken", "s003", "renamed copy"),
        f"parkseo_34567_67892_{LESSON}.ipynb": ("skipped", "s003", "older upload"),
        f"choiunknown_99999_67893_{LESSON}.ipynb": ("skipped", "-", "unknown student"),
        "kimminji_12345_67894_notes.txt": ("skipped", "-", "not a notebook"),
        f"../escape_12345_67895_{LESSON}.ipynb": ("refused", "-", "'..'"),
        f"/tmp/absolute_45678_67897_{LESSON}.ipynb": ("refused", "-", "absolute path"),
        f"hanbyul_45678_67896_{LESSON}.ipynb": ("refused", "-", "symbolic link"),
        f"hanbyul_45678_67898_{LESSON}.ipynb": ("refused", "-", "special file"),
    }
    return members, expected
