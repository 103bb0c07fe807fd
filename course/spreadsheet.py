"""CSV files an instructor opens in a spreadsheet: every cell quoted as needed, and no cell that a
spreadsheet would run as a formula (a student folder named `=HYPERLINK(...)` stays text)."""
import csv

import regex
from nbgrader.api import MissingEntry
from nbgrader.plugins.export import CsvExportPlugin

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
# what may stand in front of a formula and not be seen: spaces, and characters that show as
# nothing (Unicode's default-ignorable code points: zero-width spaces, Hangul fillers...)
UNSEEN_START = regex.compile(r"^[\s\p{Default_Ignorable_Code_Point}]+")


def safe_cell(value):
    """The value as spreadsheet programs should show it: text that would start a formula, also
    behind spaces or characters of no width, or with a full-width sign, gets a leading apostrophe
    (OWASP's advice for CSV injection); numbers and other text are unchanged."""
    if isinstance(value, str) and UNSEEN_START.sub("", value).startswith(FORMULA_START):
        return "'" + value
    return value


def safe_frame(frame):
    """A copy of a pandas DataFrame with every text cell made safe by safe_cell."""
    return frame.apply(lambda column: column.map(safe_cell))


class SafeCsvExportPlugin(CsvExportPlugin):
    """nbgrader's grades.csv (the same columns and rows as its CsvExportPlugin), written with the
    csv module: nbgrader joins fields with commas unquoted, so a student id holding a comma, a
    quote or a formula broke the file or ran in a spreadsheet. A submission flagged for review
    (`course review`) has no score in it until the instructor accepts or rejects it."""

    COLUMNS = ("assignment", "duedate", "timestamp", "student_id", "last_name", "first_name",
               "email", "raw_score", "late_submission_penalty", "score", "max_score")

    def export(self, gradebook):
        students, assignments = set(map(str, self.student)), set(map(str, self.assignment))
        with open(self.to or "grades.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(self.COLUMNS)
            for assignment in gradebook.assignments:
                if assignments and assignment.name not in assignments:
                    continue
                for student in gradebook.students:
                    if students and student.id not in students:
                        continue
                    row = self._row(gradebook, assignment, student)
                    writer.writerow([safe_cell("" if row[key] is None else str(row[key]))
                                     for key in self.COLUMNS])

    @staticmethod
    def _row(gradebook, assignment, student):
        row = {"assignment": assignment.name, "duedate": assignment.duedate, "student_id": student.id,
               "last_name": student.last_name, "first_name": student.first_name,
               "email": student.email, "max_score": assignment.max_score}
        try:
            submission = gradebook.find_submission(assignment.name, student.id)
        except MissingEntry:  # nothing handed in: zero
            row.update(timestamp="", raw_score=0.0, late_submission_penalty=0.0, score=0.0)
        else:
            penalty = submission.late_submission_penalty
            row.update(timestamp=submission.timestamp, raw_score=submission.score,
                       late_submission_penalty=penalty, score=max(0.0, submission.score - penalty))
            if any(notebook.flagged for notebook in submission.notebooks):
                row.update(raw_score="", score="")  # withheld until the instructor's review
        return row
