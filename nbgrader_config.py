"""nbgrader settings for the neural-network basics course.

`course release`, `course grade` and plain `nbgrader ...` commands all read this file, and it
says everything they run: `course grade` is plain `nbgrader autograde` + `generate_feedback` on
this config, with an intake, parallel workers and a report around them.
"""
from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute

from course.nbgrader_plugins import ColabBadge, HideHiddenTests, InlineChecks, ResilientExecute
from course.sandbox import SandboxedKernelManager

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "nn-basics"
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
# nbgrader's own pipeline, with its Execute replaced by ResilientExecute: a cell that kills
# the kernel, or runs past the timeout and will not stop, costs that cell (the kernel is
# restarted and the clean cells before it are replayed), and output is limited as it arrives.
c.Autograde.autograde_preprocessors = [
    ResilientExecute if step is Execute else step
    for step in Autograde.class_traits()["autograde_preprocessors"].default()
]
# Output kept, in characters, of every kind (prints, displays and their updates, results,
# tracebacks); the rest is dropped and the cell says so. Errors are always kept, cut short.
c.ResilientExecute.max_output_chars = 200_000  # per cell
c.ResilientExecute.max_notebook_output_chars = 2_000_000  # per notebook
c.ResilientExecute.max_kernel_deaths = 4  # restarts; then the remaining cells are skipped

# The slowest cell of any lesson trains for well under 10 s; importing TensorFlow on a
# loaded 2-core machine can take 20 s. A cell still running after this is stopped.
c.Execute.timeout = 90
c.Execute.startup_timeout = 120
# Wall-clock time for one notebook, kernel restarts included (a lesson's solution runs in
# 15-25 s); the cells after it are not run. `course grade` stops a whole autograde (feedback
# included) that runs past this + startup_timeout + 120 s, and marks it failed.
c.ResilientExecute.max_seconds = 900

# Every student kernel runs in the bubblewrap sandbox (course/sandbox.py): a read-only system,
# an empty working directory and /tmp of its own (memory-backed, never copied back), no
# network, an unprivileged uid, and these limits.
# `course grade --no-sandbox` replaces the manager with jupyter_client's AsyncKernelManager.
c.Execute.kernel_manager_class = SandboxedKernelManager
c.SandboxedKernelManager.memory_bytes = 6 * 2**30  # address space of the kernel
c.SandboxedKernelManager.cpu_seconds = 600  # CPU time, all threads together
c.SandboxedKernelManager.processes = 512  # processes and threads of the kernel's uid
c.SandboxedKernelManager.workdir_bytes = 256 * 2**20  # the kernel's working directory (tmpfs)
c.SandboxedKernelManager.tmp_bytes = 256 * 2**20  # the kernel's /tmp (tmpfs)
# A message part larger than this is dropped before the grader decodes it (one 300 MB print
# would otherwise take seconds and gigabytes to read, only to be cut to max_output_chars).
c.SandboxedKernelManager.max_message_bytes = 64 * 2**20
# One OpenMP/TensorFlow thread per kernel: the parallel jobs fill the cores (on 2 cores this
# graded 24 submissions in 186 s against 191 s with TensorFlow's own thread count).
c.SandboxedKernelManager.threads = 1

# A student who deletes a graded test cell gets it back (and is graded by it).
c.OverwriteCells.add_missing_cells = True

# ---- feedback (`course grade`, and plain `nbgrader generate_feedback`) ----------------------
# nbgrader 0.9.6 shows hidden tests (and their tracebacks) in the feedback HTML.
c.GenerateFeedback.preprocessors.append(HideHiddenTests)
