"""nbgrader settings for the neural-network basics course.

`course release`, `course grade` and plain `nbgrader ...` commands all read this file, and it
says everything they run: `course grade` is plain `nbgrader autograde` + `generate_feedback` on
this config, with an intake, parallel workers and a report around them.
"""
import os

from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute

from course.browser_safe import BrowserSafe
from course.lms_collector import LmsCollect
from course.nbgrader_plugins import ColabBadge, FeedbackExporter, HideHiddenTests, InlineChecks, ResilientExecute
from course.safe_extract import SafeExtractor
from course.sandbox import SandboxedKernelManager
from course.spreadsheet import SafeCsvExportPlugin

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "nn-basics"
# The gradebook (nbgrader's database, a SQLAlchemy URL): gradebook.db in the course directory
# (SQLite) unless the environment variable COURSE_DB_URL names another, for example
#   COURSE_DB_URL=postgresql+psycopg://grader:PASSWORD@db.example.org:5432/nn_basics
# (the database must exist; nbgrader creates its tables). Or set it here for good:
#   c.CourseDirectory.db_url = "postgresql+psycopg://grader@db.example.org/nn_basics"
if os.environ.get("COURSE_DB_URL"):
    c.CourseDirectory.db_url = os.environ["COURSE_DB_URL"]
# Lesson authoring files that must not be copied into release/ or autograded/.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "wrong_answers.toml",
    "alternative_answers.toml",
]

# ---- release (`course release` = nbgrader generate_assignment) ----------------------------
# The source notebooks import the check helpers; the student version gets their code inlined
# (before SaveCells, so the gradebook keeps the inlined cell), and an "Open in Colab" badge.
c.GenerateAssignment.preprocessors.prepend([InlineChecks, ColabBadge])

# Where the release notebooks are published: the "Open in Colab" badges of every lesson
# and of README.md point at github.com/<repository>/blob/<branch>/release/...
c.ColabBadge.repository = "nn-basics-kr/nn-basics-course"
c.ColabBadge.branch = "main"

# What a student sees in place of a solution. It still raises, so an unanswered exercise
# fails its checks instead of passing silently.
c.ClearSolutions.code_stub = {
    "python": "# 여기에 코드를 작성하세요 (YOUR CODE HERE)\nraise NotImplementedError()",
}
c.ClearSolutions.text_stub = "여기에 답을 쓰세요 (YOUR ANSWER HERE)"

# ---- autograde (`course grade`, and plain `nbgrader autograde`) ---------------------------
# Where `course grade` grades: "" on this machine's worker processes (`--jobs`), or a Dask
# scheduler "tcp://HOST:PORT" whose workers (other machines, a SLURM allocation) grade each
# submission in a scratch course of their own and send the results back; `course grade
# --scheduler` overrides it. The workers need this course's Python environment and bubblewrap,
# not its folder (README: "Grading on more machines").
c.GradeEngine.scheduler_address = ""
# `course grade` autogrades each submission as its intake took it in (course/intake.py: the
# notebook found and read as a regular file, its graded cells checked and restored), written
# here for nbgrader to read as its submitted_directory; plain `nbgrader autograde` reads
# submitted/ as the student left it.
c.GradeEngine.staged_submitted_directory = ".grading/submitted"
# A whole job (intake, autograde, feedback) is stopped after the notebook's own time limit
# (ResilientExecute.max_seconds), a kernel start (Execute.startup_timeout) and this margin.
c.GradeEngine.job_margin_seconds = 120

# nbgrader's own pipeline, with its Execute replaced by ResilientExecute: a cell that kills
# the kernel, or runs past the timeout and will not stop, costs that cell (the kernel is
# restarted and the clean cells before it are replayed), and output is limited as it arrives.
c.Autograde.autograde_preprocessors = [
    ResilientExecute if step is Execute else step
    for step in Autograde.class_traits()["autograde_preprocessors"].default()
]
# Test cells run in the grader, not in the student's kernel (course/answer_client.py): each name
# a test cell reads that the notebook defines is asked of the kernel, and comes back as data
# (numbers, arrays, text, tables) or as a reference the checks call through. Nothing in the
# kernel decides a check, and the hidden tests never reach it. The preamble imports, once per
# notebook, the libraries the test cells use.
c.ResilientExecute.checks_outside_kernel = True
c.ResilientExecute.checker_preamble = """
from fractions import Fraction

import keras
import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
import tensorflow as tf
"""
# Each test cell runs as a function called at once (course/test_scope.py): the values it binds
# (expected results, reference models) are its own, and a student's function it calls cannot
# read them from the notebook's globals.
c.ResilientExecute.test_cells_in_own_scope = True
# Output kept, in characters, of every kind (prints, displays and their updates, results,
# tracebacks); the rest is dropped and the cell says so. Errors are always kept, cut short.
c.ResilientExecute.max_output_chars = 200_000  # per cell
c.ResilientExecute.max_notebook_output_chars = 2_000_000  # per notebook
c.ResilientExecute.max_kernel_deaths = 4  # restarts; then the remaining cells are skipped

# The slowest cell of any lesson trains for well under 10 s; importing TensorFlow on a
# loaded 2-core machine can take 20 s. A cell still running after this is stopped.
c.Execute.timeout = 90
c.Execute.startup_timeout = 120
# After a cell's reply, its last outputs may come late on a loaded machine; nbgrader raises
# when they take longer than this (nbclient's 4 s failed whole submissions at load 12 on 2 cores).
c.Execute.iopub_timeout = 60
# Except after a timeout: the kernel is interrupted, and a cell that stops sends its last output
# at once; one that will not stop (it ignores SIGINT) is ended this many seconds later.
c.ResilientExecute.interrupt_grace_seconds = 20
# Wall-clock time for one notebook, kernel restarts included (a lesson's solution runs in
# 15-25 s); the cells after it are not run. `course grade` stops a whole autograde (feedback
# included) that runs past this + startup_timeout + 120 s, and marks it failed.
c.ResilientExecute.max_seconds = 900
# CPU time a cell's processes may use together: the kernel and every process it started
# (the sandbox's cpu_seconds holds per process, and each child gets it again). The timeout x 1
# core: the kernel alone (one thread) cannot reach it before the timeout. Past it the whole
# tree is killed, the cell gets an error and the kernel is restarted, as after a timeout.
c.ResilientExecute.max_cell_cpu_seconds = 90
# The test cells that run the answer's own training, twice, then train it again from up to five
# starts (course/training_record.py) get this many seconds of wall-clock and of CPU time instead:
# the slowest honest lesson 06 answer catalogued (600 full-batch Adam epochs, 50 ms each under
# load) took 93 s alone and over 120 s on a loaded machine.
c.ResilientExecute.test_cell_seconds = {"test_celsius_model": 240, "test_single_unit": 240,
                                        "test_fit_linear_network": 240}
c.ResilientExecute.cpu_watch_interval = 1.0  # seconds between readings: cores x this may pass the limit

# Every student kernel runs in the bubblewrap sandbox (course/sandbox.py): a read-only system,
# an empty working directory and /tmp of its own (memory-backed, never copied back), no
# network, an unprivileged uid, and these limits.
# `course grade --no-sandbox` replaces the manager with jupyter_client's AsyncKernelManager.
c.Execute.kernel_manager_class = SandboxedKernelManager
c.SandboxedKernelManager.memory_bytes = 6 * 2**30  # address space of the kernel
c.SandboxedKernelManager.cpu_seconds = 600  # CPU time, all threads together
c.SandboxedKernelManager.processes = 512  # processes and threads of the kernel's uid
# files and sockets per process (a lesson kernel uses about 60); bounds what socket buffers hold
c.SandboxedKernelManager.open_files = 256
c.SandboxedKernelManager.workdir_bytes = 256 * 2**20  # the kernel's working directory (tmpfs)
c.SandboxedKernelManager.tmp_bytes = 256 * 2**20  # the kernel's /tmp (tmpfs)
# A seccomp filter denies the kernel (and all it starts) the system calls that would get round
# these limits: namespaces and mounts (a tmpfs without a size), memfd_create (memory outside
# memory_bytes), keyrings (the grader's), ptrace... (course/syscall_filter.py lists them).
c.SandboxedKernelManager.seccomp = True
# A message part larger than this is dropped before the grader decodes it (one 300 MB print
# would otherwise take seconds and gigabytes to read, only to be cut to max_output_chars).
c.SandboxedKernelManager.max_message_bytes = 64 * 2**20
# One OpenMP/TensorFlow thread per kernel: the parallel jobs fill the cores (on 2 cores this
# graded 24 submissions in 186 s against 191 s with TensorFlow's own thread count).
c.SandboxedKernelManager.threads = 1
# Warm kernels: each grading process imports these once in a sandboxed server and forks every
# kernel from it (course/kernel_zygote.py), in namespaces of its own, so no submission pays for
# TensorFlow's import. Not ipywidgets or matplotlib: they set themselves up for the kernel they
# are imported in. statsmodels (lesson 06's setup cell, about 2 s) imports neither, nor IPython,
# and starts no thread. [] starts every kernel cold.
c.SandboxedKernelManager.preload = [
    "numpy", "pandas", "tensorflow", "keras", "statsmodels.api", "statsmodels.formula.api",
]
# False: every kernel starts cold and imports `preload` itself (numpy where it is []); cold or
# warm, a kernel has the same guards (course/kernel_zygote.py: libraries, IPython and the check
# helpers put back before each cell, hidden test lines kept blank, formula terms kept plain).
c.SandboxedKernelManager.warm = True

# Without this, a widget cell now and then waited the whole timeout for a reply that had
# arrived: the Output widget's comm_msg, sent on the same socket, took its wake-up (issue 14;
# course/kernel_client.py explains it). course/execute.py uses the same client.
c.AsyncKernelManager.client_class = "course.kernel_client.CourseKernelClient"

# A student who deletes a graded test cell gets it back (and is graded by it).
c.OverwriteCells.add_missing_cells = True

# `nbgrader export` (and `course grade`'s grades.csv): quoted, spreadsheet-safe cells.
c.ExportApp.plugin_class = SafeCsvExportPlugin

# ---- feedback (`course grade`, and plain `nbgrader generate_feedback`) ----------------------
# nbgrader 0.9.6 shows hidden tests (and their tracebacks) in the feedback HTML.
c.GenerateFeedback.preprocessors.append(HideHiddenTests)
# No HTML, SVG or markdown of the student's that a browser would run (a <script> shown with
# display(..., raw=True) ran for whoever opened the page): shown as plain text instead.
c.GenerateFeedback.preprocessors.append(BrowserSafe)
# nbconvert's HTML exporter, its templates compiled once per grading process, not once a page
c.GenerateFeedback.exporter_class = FeedbackExporter
# Markdown cells longer than this, or with link reference definitions (nbconvert expands each
# use: 24 kB of markdown gave 20 MB of HTML), are shown as plain text in the feedback; a page
# still larger than max_page_chars is replaced by its plain text.
c.HideHiddenTests.max_markdown_chars = 20_000
c.FeedbackExporter.max_page_chars = 8_000_000

# ---- The LMS round trip: `course collect`, `course export feedback`, `course export grades` ----
# `course collect LESSON EXPORT` (course/collect.py) runs nbgrader's zip_collect on an LMS's
# "download all submissions" zip or folder: EXPORT is copied to downloaded/LESSON/archive/,
# unpacked into downloaded/LESSON/extracted/ and each student's notebook copied to
# submitted/STUDENT/LESSON/LESSON.ipynb. Plain `nbgrader zip_collect LESSON` uses the same plugins.
# nbgrader's own extractor writes links as files, drops `..` members silently and unpacks
# nested archives without limit; this one refuses links, special files, absolute paths and `..`,
# and says why (limits: c.SafeExtractor.max_member_bytes, max_total_bytes, max_members, max_depth).
c.ZipCollectApp.extractor_plugin = SafeExtractor
# Names each file to a student, takes each student's latest upload, reports every other file.
c.ZipCollectApp.collector_plugin = LmsCollect
c.ZipCollectApp.strict = True  # only notebooks named like the lesson (renamed copies count)
# The export's file-name layout: "canvas", "moodle" or "blackboard"; or "custom" with your own
# nbgrader named_regexp (groups: file_id; student_id, lms_id or lms_name; optional timestamp,
# attempt), matched against each extracted file's absolute path, for example
#   c.LmsCollect.pattern = "custom"
#   c.LmsCollect.named_regexp = r".*/(?P<student_id>[a-z0-9]+)__(?P<file_id>[^/]+)$"
c.LmsCollect.pattern = "canvas"
# student_id,lms_id,lms_name: which LMS account is which student (`course collect --roster`
# overrides it; "" takes the LMS's id as the student id). It holds names: keep it out of git.
c.LmsCollect.roster = "roster.csv"

# `course export feedback LESSON` (course/lms_export.py): "students" makes one zip per student
# (exports/LESSON/feedback/STUDENT.zip, only that student's feedback pages); "lms" one zip for
# the LMS's "upload feedback files" import (Canvas: re-upload submissions; Moodle: upload
# multiple feedback files in a zip), each page named like the file the student uploaded.
c.LmsExport.feedback_layout = "students"
# `course export grades LESSON`: a CSV for the LMS gradebook's import, next to grades.csv.
# Columns in order: {header: what fills it}, what being student_id, lms_id, lms_name (from the
# roster), score, max_score or "" (an empty column); "{lesson}" in a header is the lesson id.
# Canvas wants its own gradebook export's first columns and finds the assignment by the score
# column's title (or "title (assignment id)"); Moodle and Blackboard map columns on import.
c.LmsExport.grades_file = "grades_{lesson}_lms.csv"
c.LmsExport.grade_columns = {
    "Student": "lms_name", "ID": "lms_id", "SIS User ID": "", "SIS Login ID": "",
    "Section": "", "{lesson}": "score",
}
