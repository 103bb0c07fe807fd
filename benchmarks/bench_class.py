"""Grade one generated class twice, in one run: with plain sequential `nbgrader autograde`
(one call per lesson, as an instructor would type it, every kernel started cold) and with
`course grade` (parallel, sandboxed, warm kernels, feedback included). Prints submissions per
minute for both and the ratio.

    python benchmarks/bench_class.py                  # 20 students x every lesson
    python benchmarks/bench_class.py --students 4 01_parameters
    python benchmarks/bench_class.py --kernel-threads 0     # TensorFlow's own thread count
    python benchmarks/bench_class.py --dask --students 8 01_parameters 04_and_xor
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from course import submissions
from course.demo import make_course
from course.grade import default_jobs, grade
from course.paths import REPOSITORY_ROOT, select_lessons
from course.release import release
from course.status import Status


def make_class(root, lessons, students):
    """Each student answers every lesson; every other one with one catalogued mistake."""
    for lesson in lessons:
        mistakes = submissions.wrong_answers(root, lesson)
        for number in range(students):
            if number % 2 and mistakes:
                nb = submissions.with_wrong_answer(root, lesson, mistakes[number // 2 % len(mistakes)])
            else:
                nb = submissions.answered(root, lesson)
            submissions.submit(root, f"student{number:02d}", lesson, nb)


def plain_nbgrader(root, lessons):
    nbgrader = Path(sys.executable).with_name("nbgrader")
    failures = 0
    start = time.perf_counter()
    for lesson in lessons:
        lesson_start = time.perf_counter()
        # nbgrader's own way: every kernel started cold (the course's sandbox and executor kept)
        run = subprocess.run([str(nbgrader), "autograde", lesson, "--force", "--create",
                              "--SandboxedKernelManager.preload=[]"], cwd=root,
                             capture_output=True, text=True)
        failures += run.stdout.count("Removing failed assignment") + run.stderr.count(
            "Removing failed assignment")
        print(f"  plain {lesson:18s} {time.perf_counter() - lesson_start:6.1f} s", flush=True)
    return time.perf_counter() - start, failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*")
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--kernel-threads", type=int, default=None,
                        help="threads per sandboxed kernel (default: nbgrader_config.py's; 0: TF's own)")
    parser.add_argument("--skip-plain", action="store_true", help="time only `course grade`")
    parser.add_argument("--dask", action="store_true",
                        help="also grade on a Dask cluster of a scheduler and two worker processes "
                             "on this machine (TCP on localhost)")
    args = parser.parse_args(argv)
    lessons = select_lessons(REPOSITORY_ROOT, args.lessons)
    count = args.students * len(lessons)
    jobs = args.jobs or default_jobs()
    print(f"{os.cpu_count()} cores; {args.students} students x {len(lessons)} lessons = {count} "
          f"submissions; course grade with {jobs} jobs", flush=True)
    with tempfile.TemporaryDirectory(prefix="course-bench-class-") as workdir:
        plain_root = make_course(REPOSITORY_ROOT, Path(workdir) / "plain", lessons)
        release(plain_root, lessons, update_readme=False)
        make_class(plain_root, lessons, args.students)
        ours_root, dask_root = Path(workdir) / "ours", Path(workdir) / "dask"
        shutil.copytree(plain_root, ours_root)
        if args.dask:
            shutil.copytree(plain_root, dask_root)

        plain_seconds = None
        if not args.skip_plain:
            plain_seconds, plain_failures = plain_nbgrader(plain_root, lessons)
            print(f"plain nbgrader autograde: {plain_seconds:7.1f} s  {60 * count / plain_seconds:5.2f} "
                  f"submissions/min  failures: {plain_failures}", flush=True)

        overrides = ({} if args.kernel_threads is None
                     else {"SandboxedKernelManager": {"threads": args.kernel_threads}})
        ours_seconds = timed_grade("course grade", ours_root, lessons, count, jobs=jobs,
                                   overrides=overrides)
        if plain_seconds:
            print(f"ratio (course grade / plain): {plain_seconds / ours_seconds:.2f}x", flush=True)
        if args.dask:
            sys.path.insert(0, str(REPOSITORY_ROOT / "tests"))
            from dask_cluster import local_cluster
            with local_cluster(Path(workdir) / "cluster", workers=2) as address:
                dask_seconds = timed_grade(
                    "course grade on Dask", dask_root, lessons, count,
                    overrides={**overrides, "GradeEngine": {"scheduler_address": address}})
            if plain_seconds:
                print(f"ratio (Dask, 2 workers / plain): {plain_seconds / dask_seconds:.2f}x")


PHASES = ("kernel start", "setup cell", "cells", "autograde", "feedback")


def timed_grade(name, root, lessons, count, **kwargs):
    """Grade the class at `root` with course.grade.grade(**kwargs); print the rate and where the
    time went per job; return the seconds."""
    start = time.perf_counter()
    results = grade(root, progress=False, **kwargs)
    seconds = time.perf_counter() - start
    failed = [r for r in results if r.status is not Status.GRADED]
    print(f"{name + ':':25s} {seconds:7.1f} s  {60 * count / seconds:5.2f} submissions/min  "
          f"failures: {len(failed)}", flush=True)
    for r in failed:
        print(f"  {r.student} {r.lesson}: {r.status}: {r.reason}")
    print("  mean seconds per submission in a worker: job = kernel start + setup cell (the "
          "imports) + the other cells + nbgrader's own work | feedback")
    print(f"  {'lesson':18s} {'job':>5s} " + " ".join(f"{p:>12s}" for p in PHASES))
    for lesson in lessons:
        mine = [r for r in results if r.lesson == lesson]
        means = [sum(r.phases.get(phase, 0) for r in mine) / len(mine) for phase in PHASES]
        print(f"  {lesson:18s} {sum(r.seconds for r in mine) / len(mine):5.1f} "
              + " ".join(f"{m:12.1f}" for m in means), flush=True)
    return seconds


if __name__ == "__main__":
    main()
