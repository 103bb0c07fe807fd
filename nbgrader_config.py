"""nbgrader settings for the neural-network basics course.

`course release`, `course grade` and plain `nbgrader ...` commands all read this file.
"""
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    CheckCellMetadata, ClearHiddenTests, ClearMarkScheme, ClearOutput, ClearSolutions,
    ComputeChecksums, GetGrades, IncludeHeaderFooter, InstantiateTests, LockCells, SaveCells,
)

from course.nbgrader_plugins import ColabBadge, HideHiddenTests, InlineChecks

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "nn-basics"
# Lesson authoring files that must not be copied into release/ or autograded/.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "wrong_answers.toml",
]

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

# The slowest cell of any lesson trains for well under 10 s; importing TensorFlow on a
# loaded 2-core machine can take 20 s. A cell still running after this is stopped.
c.Execute.timeout = 90
c.Execute.startup_timeout = 120

# Without this, a widget cell now and then waited the whole timeout for a reply that had
# arrived: the Output widget's comm_msg, sent on the same socket, took its wake-up (issue 14;
# course/kernel_client.py explains it). course/execute.py uses the same client.
c.AsyncKernelManager.client_class = "course.kernel_client.CourseKernelClient"

# A student who deletes a graded test cell gets it back (and is graded by it).
c.OverwriteCells.add_missing_cells = True

c.GenerateAssignment.preprocessors = [
    InlineChecks,  # before SaveCells, so the gradebook keeps the inlined helper cell
    ColabBadge,
    IncludeHeaderFooter,
    InstantiateTests,
    LockCells,
    ClearSolutions,
    ClearOutput,
    CheckCellMetadata,
    ComputeChecksums,
    SaveCells,
    ClearHiddenTests,
    ClearMarkScheme,
    ComputeChecksums,
    CheckCellMetadata,
]

# nbgrader 0.9.6 shows hidden tests (and their tracebacks) in the feedback HTML.
c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, HideHiddenTests]
