"""What one grading job gives back (course.job makes it in a worker process, course.grade and
course.report read it). Light on purpose: a worker unpickles it, and tests of the worker pool
run jobs that import nothing heavier than this."""
from dataclasses import dataclass, field

from course.status import Status


@dataclass
class Result:
    """What one job gives: status, score (points) and notes; seconds of wall time in all and
    per phase ("autograde", "feedback"; within autograde "kernel start", "setup cell" and
    "cells", see course.nbgrader_plugins.PHASE_SECONDS)."""
    student: str
    lesson: str
    status: Status
    score: float = 0.0
    max_score: float = 0.0
    notes: list = field(default_factory=list)
    seconds: float = 0.0
    phases: dict = field(default_factory=dict)

    @property
    def reason(self):
        return "; ".join(self.notes)
