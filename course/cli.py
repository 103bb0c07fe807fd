"""The instructor's command line: `course release | collect | grade | review | export | demo`
(also `python -m course`)."""
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
    if getattr(args, "scheduler", None):
        overrides["GradeEngine"] = {"scheduler_address": args.scheduler}
    return overrides


def _grade(args):
    from course.grade import grade
    from course.gradebook import GRADES_CSV
    from course.paths import course_root, feedback_root, select_lessons
    from course.report import REPORTS, score_table
    from course.status import Status

    root = course_root(args.root)
    lessons = select_lessons(root, args.lessons) if args.lessons else None
    results = grade(root, students=args.students, lessons=lessons, jobs=args.jobs,
                    overrides=_overrides(args))
    print()
    print(score_table(results).to_string())
    print(f"\ngrades CSV: {root / GRADES_CSV}\nreport:     {root / REPORTS / 'report.html'}\n"
          f"feedback:   {feedback_root(root)}")
    return 0 if all(r.status is Status.GRADED for r in results) else 1


def _collect(args):
    from course.collect import collect, record_path, table_text
    from course.paths import course_root, select_lessons

    root = course_root(args.root)
    lesson = select_lessons(root, [args.lesson])[0]
    rows = collect(root, lesson, args.export, roster=args.roster, pattern=args.pattern, force=args.force)
    print(table_text(rows))
    counts = {outcome: sum(r.outcome == outcome for r in rows)
              for outcome in ("taken", "skipped", "refused")}
    print(f"\n{counts['taken']} taken into submitted/, {counts['skipped']} skipped, "
          f"{counts['refused']} refused; table: {record_path(root, lesson)}")
    return 0


def _export_feedback(args):
    from course.lms_export import export_feedback
    from course.paths import course_root, select_lessons

    root = course_root(args.root)
    lesson = select_lessons(root, [args.lesson])[0]
    zips, notes = export_feedback(root, lesson, layout=args.layout)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    where = zips[0].parent if len(zips) > 1 else zips[0]
    print(f"{len(zips)} zip{'s' if len(zips) > 1 else ''}: {where}")
    return 0


def _export_grades(args):
    import pandas as pd

    from course.lms_export import export_grades
    from course.paths import course_root, select_lessons

    root = course_root(args.root)
    lesson = select_lessons(root, [args.lesson])[0]
    path, header, rows, notes = export_grades(root, lesson, roster=args.roster)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    print(pd.DataFrame(rows, columns=header).to_string(index=False) if rows else "(no students)")
    print(f"\ngrades for the LMS: {path}")
    return 0


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

    collect = commands.add_parser(
        "collect", help="an LMS's zip (or folder) of submissions into submitted/, with a table "
                        "of what was taken, skipped or refused and why")
    collect.add_argument("lesson", metavar="LESSON")
    collect.add_argument("export", metavar="ZIP_OR_FOLDER",
                         help="the LMS's \"download all submissions\" zip, or its unzipped folder")
    collect.add_argument("--roster", metavar="CSV", help="student_id,lms_id,lms_name "
                                                         "(default: c.LmsCollect.roster)")
    collect.add_argument("--pattern", choices=["canvas", "moodle", "blackboard", "custom"],
                         help="the export's file-name layout (default: c.LmsCollect.pattern)")
    collect.add_argument("--force", action="store_true",
                         help="replace submissions already in submitted/")
    collect.add_argument("--root", help="course directory (default: here, else this repository)")
    collect.set_defaults(run=_collect)

    grade = commands.add_parser("grade", help="autograde submitted/ in parallel and sandboxed; "
                                              "feedback, grades.csv, reports/report.html")
    grade.add_argument("--students", nargs="+", metavar="STUDENT", help="default: everyone")
    grade.add_argument("--lessons", nargs="+", metavar="LESSON", help="default: every lesson")
    grade.add_argument("--timeout", type=int, metavar="SECONDS",
                       help="time limit of one cell (default: nbgrader_config.py)")
    grade.add_argument("--root", help="course directory (default: here, else this repository)")
    grade.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="grade on the workers of this Dask scheduler (default: "
                            "c.GradeEngine.scheduler_address, else this machine; --jobs then "
                            "does not apply)")
    _grading_options(grade)
    grade.set_defaults(run=_grade)

    review = commands.add_parser("review", help="accept or reject a submission flagged for review "
                                                 "(its score is withheld until then)")
    review.add_argument("decision", choices=["accept", "reject"])
    review.add_argument("lesson", metavar="LESSON")
    review.add_argument("student", metavar="STUDENT")
    review.add_argument("--root", help="course directory (default: here, else this repository)")
    review.set_defaults(run=_review)

    export = commands.add_parser("export",
                                 help="feedback or grades of a lesson back out to the LMS")
    exports = export.add_subparsers(dest="what", required=True)
    feedback = exports.add_parser(
        "feedback", help="zip the feedback pages: one zip per student, or one for the LMS's "
                         "upload-feedback import")
    feedback.add_argument("lesson", metavar="LESSON")
    feedback.add_argument("--layout", choices=["students", "lms"],
                          help="default: c.LmsExport.feedback_layout in nbgrader_config.py")
    feedback.add_argument("--root", help="course directory (default: here, else this repository)")
    feedback.set_defaults(run=_export_feedback)
    grades = exports.add_parser("grades", help="a CSV for the LMS gradebook's import (columns: "
                                               "c.LmsExport.grade_columns), next to grades.csv")
    grades.add_argument("lesson", metavar="LESSON")
    grades.add_argument("--roster", metavar="CSV", help="default: c.LmsCollect.roster")
    grades.add_argument("--root", help="course directory (default: here, else this repository)")
    grades.set_defaults(run=_export_grades)

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
