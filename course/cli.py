"""The instructor's command line: `course release | grade | review | demo` (also `python -m course`)."""
import argparse
import os
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# nbgrader 0.9.6 trips SQLAlchemy's autoflush warnings on every autograde; they are noise.
warnings.filterwarnings("ignore", message=".*not in session.*")


def _release(args):
    from course.paths import course_root, select_lessons
    from course.release import release

    root = course_root(args.root)
    lessons = select_lessons(root, args.lessons)
    release(root, lessons)
    for lesson in lessons:
        print(f"released {lesson} -> release/{lesson}/{lesson}.ipynb")
    return 0


def _overrides(args):
    """What the options change in nbgrader_config.py, as config overrides."""
    from course.grade import NO_SANDBOX

    overrides = {"Execute": {}}
    if args.no_sandbox:
        overrides["Execute"].update(NO_SANDBOX["Execute"])
    if getattr(args, "timeout", None):
        overrides["Execute"]["timeout"] = args.timeout
    return overrides


def _grade(args):
    from course.grade import grade
    from course.gradebook import GRADES_CSV
    from course.paths import course_root, select_lessons
    from course.report import REPORTS, score_table
    from course.status import Status

    root = course_root(args.root)
    lessons = select_lessons(root, args.lessons) if args.lessons else None
    results = grade(root, students=args.students, lessons=lessons, jobs=args.jobs,
                    overrides=_overrides(args))
    print()
    print(score_table(results).to_string())
    print(f"\ngrades CSV: {root / GRADES_CSV}\nreport:     {root / REPORTS / 'report.html'}\n"
          f"feedback:   {root / 'feedback'}")
    return 0 if all(r.status is Status.GRADED for r in results) else 1


def _demo(args):
    from course.demo import demo
    from course.paths import REPOSITORY_ROOT, select_lessons
    from course.sandbox import sandbox_problem

    if not args.no_sandbox and sandbox_problem():
        # The demo grades only submissions made from this course's own code: safe unsandboxed.
        print(f"note: grading the demo without the sandbox: {sandbox_problem()}", file=sys.stderr)
        args.no_sandbox = True
    demo(REPOSITORY_ROOT, select_lessons(REPOSITORY_ROOT, args.lessons), workdir=args.dir,
         jobs=args.jobs, overrides=_overrides(args))
    return 0


def _review(args):
    from course.gradebook import GRADES_CSV, export_csv, review
    from course.paths import course_root

    root = course_root(args.root)
    score = review(root, args.student, args.lesson, accept=args.decision == "accept")
    export_csv(root)
    print(f"{args.student} {args.lesson}: {args.decision}ed, score {score:g}; {root / GRADES_CSV} updated")
    return 0


def _grading_options(command):
    command.add_argument("--jobs", type=int, metavar="N",
                         help="submissions graded at once (default: one per core, at most 4)")
    command.add_argument("--no-sandbox", action="store_true",
                         help="run student code without bubblewrap, with your own rights")


def parser():
    top = argparse.ArgumentParser(prog="course", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)

    release = commands.add_parser("release", help="regenerate release/ from source/")
    release.add_argument("lessons", nargs="*", metavar="LESSON", help="default: every lesson")
    release.add_argument("--root", help="course directory (default: here, else this repository)")
    release.set_defaults(run=_release)

    grade = commands.add_parser("grade", help="autograde submitted/ in parallel and sandboxed; "
                                              "feedback, grades.csv, reports/report.html")
    grade.add_argument("--students", nargs="+", metavar="STUDENT", help="default: everyone")
    grade.add_argument("--lessons", nargs="+", metavar="LESSON", help="default: every lesson")
    grade.add_argument("--timeout", type=int, metavar="SECONDS",
                       help="time limit of one cell (default: nbgrader_config.py)")
    grade.add_argument("--root", help="course directory (default: here, else this repository)")
    _grading_options(grade)
    grade.set_defaults(run=_grade)

    review = commands.add_parser("review", help="accept or reject a submission flagged for review "
                                                 "(its score is withheld until then)")
    review.add_argument("decision", choices=["accept", "reject"])
    review.add_argument("lesson", metavar="LESSON")
    review.add_argument("student", metavar="STUDENT")
    review.add_argument("--root", help="course directory (default: here, else this repository)")
    review.set_defaults(run=_review)

    demo = commands.add_parser("demo", help="grade three example students in a scratch course")
    demo.add_argument("--lessons", nargs="+", metavar="LESSON", help="default: every lesson")
    demo.add_argument("--dir", help="an empty directory for the scratch course (default: a new "
                                    "temporary one)")
    _grading_options(demo)
    demo.set_defaults(run=_demo)
    return top


def main(argv=None):
    """Run one command; returns its exit status (a CourseError is printed, status 2)."""
    from course.errors import CourseError

    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except CourseError as error:
        print(f"course {args.command}: {error}", file=sys.stderr)
        return 2
