"""Measure what the course costs: each solution notebook's run time (and its slowest cells),
and the autograding time per submission.

    python benchmarks/bench.py                 # every lesson
    python benchmarks/bench.py 01_parameters   # some lessons
    python benchmarks/bench.py --no-grading    # notebooks only
"""
import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from course import submissions
from course.demo import make_course
from course.execute import errors, execute
from course.grade import NO_SANDBOX, grade
from course.paths import REPOSITORY_ROOT, select_lessons, source_notebook
from course.release import release
from course.sandbox import sandbox_problem


def bench_notebooks(lessons, slowest=3):
    print("== solution notebooks (kernel start included)")
    for lesson in lessons:
        nb, wall, cells = execute(source_notebook(REPOSITORY_ROOT, lesson))
        top = sorted(cells, key=lambda c: -c[1])[:slowest]
        slow = ", ".join(f"cell {i}: {s:.1f}s" for i, s in top)
        status = "ok" if not errors(nb) else f"ERRORS {errors(nb)[:2]}"
        print(f"{lesson:20s} {wall:6.1f} s   slowest: {slow}   {status}", flush=True)


def bench_grading(lessons):
    print("== grading one submission per lesson (course grade, one job: intake, sandboxed "
          "autograde, feedback)")
    with tempfile.TemporaryDirectory(prefix="course-bench-") as workdir:
        root = make_course(REPOSITORY_ROOT, workdir, lessons)
        release(root, lessons, update_readme=False)
        for lesson in lessons:
            submissions.submit(root, "bench", lesson, submissions.answered(root, lesson))
        start = time.perf_counter()
        results = grade(root, jobs=1, overrides=None if sandbox_problem() is None else NO_SANDBOX,
                        progress=False)
        for result in results:
            print(f"{result.lesson:20s} {result.seconds:6.1f} s per submission   {result.status} "
                  f"{result.score:g}/{result.max_score:g}", flush=True)
        print(f"{'all, with start-up':20s} {time.perf_counter() - start:6.1f} s")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*")
    parser.add_argument("--no-grading", action="store_true")
    args = parser.parse_args(argv)
    lessons = select_lessons(REPOSITORY_ROOT, args.lessons)
    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}")
    bench_notebooks(lessons)
    if not args.no_grading:
        bench_grading(lessons)


if __name__ == "__main__":
    main()
