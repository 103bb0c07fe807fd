"""The roster: which LMS account is which student of the course.

A CSV file with a header and one row per student:

    student_id,lms_id,lms_name
    s2026001,12345,"Kim, Minji"

`student_id` is the course's id (a folder name under submitted/, the gradebook's id);
`lms_id` the LMS's id of the account (Canvas user id, Blackboard username; Moodle's
participant id changes with each assignment, so Moodle goes by name); `lms_name` the name the
LMS shows. Either LMS column may be empty, not both. Names are compared without case, spaces,
punctuation or word order: "Kim, Minji" matches Canvas's file-name form "kimminji" and
Moodle's "Minji Kim".
"""
import csv
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from course.errors import CourseError

# Student ids become folder names (submitted/<student>/) and nbgrader puts them into glob
# patterns: letters, digits and . _ @ + - only, starting with a letter or digit.
SAFE_STUDENT_ID = re.compile(r"[^\W_][\w.@+-]{0,99}")
COLUMNS = ("student_id", "lms_id", "lms_name")


class RosterError(CourseError):
    """The roster file is missing, unreadable or inconsistent."""


def unsafe_student_id(student_id):
    """Why `student_id` cannot be a folder name, or None if it can."""
    if not isinstance(student_id, str) or not student_id:
        return "empty student id"
    if ".." in student_id or not SAFE_STUDENT_ID.fullmatch(student_id):
        return (f"unsafe student id {student_id!r} (letters, digits and . _ @ + - only, no '..', "
                "starting with a letter or digit)")
    return None


def name_key(name):
    """A name reduced for comparison: NFC, case-folded, its letters and digits in sorted order,
    so that "Kim, Minji", "Minji Kim" (Moodle) and "kimminji" (Canvas's file names) agree."""
    name = unicodedata.normalize("NFC", name or "").casefold()
    return "".join(sorted(ch for ch in name if ch.isalnum()))


@dataclass(frozen=True)
class Student:
    student_id: str
    lms_id: str = ""
    lms_name: str = ""


class Roster:
    """Students by course id, LMS id and LMS name. `Roster(None)` is no roster: the id the LMS
    gives is taken as the student id."""

    def __init__(self, students, path=None):
        self.path = path
        self.students = list(students) if students is not None else None
        self._by_id = {s.student_id: s for s in self.students or []}
        self._by_lms_id = {s.lms_id: s for s in self.students or [] if s.lms_id}
        self._by_name = {}
        for s in self.students or []:
            if s.lms_name:
                self._by_name.setdefault(name_key(s.lms_name), []).append(s)

    @classmethod
    def load(cls, path):
        """Read a roster CSV (UTF-8, a BOM is fine). Raises RosterError naming the file and line
        of a missing column, an unsafe or repeated student id, or a repeated LMS id."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise RosterError(f"roster {path} not found (student_id,lms_id,lms_name per line; "
                              "set c.LmsCollect.roster or give --roster)") from None
        except (OSError, UnicodeDecodeError) as error:
            raise RosterError(f"roster {path} unreadable: {error}") from None
        reader = csv.DictReader(text.splitlines())
        header = [h.strip() for h in reader.fieldnames or []]
        if "student_id" not in header or not {"lms_id", "lms_name"} & set(header):
            raise RosterError(f"{path}: the header must name student_id and lms_id and/or "
                              f"lms_name (found: {', '.join(header) or 'nothing'})")
        students, seen_ids, seen_lms = [], {}, {}
        for line, row in enumerate(reader, start=2):
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
            student = Student(*(row.get(column, "") for column in COLUMNS))
            if not any(row.values()):
                continue
            problem = unsafe_student_id(student.student_id)
            if problem:
                raise RosterError(f"{path}, line {line}: {problem}")
            if not (student.lms_id or student.lms_name):
                raise RosterError(f"{path}, line {line}: {student.student_id} has neither lms_id "
                                  "nor lms_name")
            if student.student_id in seen_ids:
                raise RosterError(f"{path}, line {line}: student_id {student.student_id} is "
                                  f"already on line {seen_ids[student.student_id]}")
            if student.lms_id and student.lms_id in seen_lms:
                raise RosterError(f"{path}, line {line}: lms_id {student.lms_id} is already on "
                                  f"line {seen_lms[student.lms_id]}")
            seen_ids[student.student_id] = line
            if student.lms_id:
                seen_lms[student.lms_id] = line
            students.append(student)
        return cls(students, path)

    @property
    def enabled(self):
        return self.students is not None

    def get(self, student_id):
        """The roster entry of a course student id, or None."""
        return self._by_id.get(student_id)

    def find(self, lms_id=None, lms_name=None, student_id=None):
        """(Student, None) for the account a file name names, or (None, why not).

        Tried in order: the LMS id, the student id itself, the LMS name (which must name one
        student). When the file name gives both an LMS id and a name and the roster has a name
        for that id, the two must agree: a roster filled from another LMS must not hand one
        student's work to another."""
        given = ", ".join(f"{label} {value!r}" for label, value in
                          (("lms id", lms_id), ("student id", student_id), ("name", lms_name)) if value)
        if not self.enabled:
            found = student_id or lms_id
            return (Student(found, lms_id or "", lms_name or ""), None) if found else (
                None, f"no id in the file name ({given or 'nothing matched'})")
        if lms_id and lms_id in self._by_lms_id:
            student = self._by_lms_id[lms_id]
            if lms_name and student.lms_name and name_key(lms_name) != name_key(student.lms_name):
                return None, (f"roster says lms id {lms_id} is {student.lms_name!r}, the file "
                              f"name says {lms_name!r}")
            return student, None
        if student_id and student_id in self._by_id:
            return self._by_id[student_id], None
        if lms_name:
            matches = self._by_name.get(name_key(lms_name), [])
            if len(matches) == 1:
                return matches[0], None
            if len(matches) > 1:
                return None, (f"name {lms_name!r} fits {len(matches)} students in the roster "
                              f"({', '.join(s.student_id for s in matches)}); give their lms_id")
        return None, f"unknown student ({given}): not in the roster {self.path.name}"
