"""nbgrader_config.py says what `course grade` and `course release` run: the preprocessors
nbgrader's own converters build from it, the kernel manager their executor starts (the sandbox,
with its limits, or jupyter_client's after `--no-sandbox`), the feedback and release pipelines.
No kernel is started: the converters and the kernel manager are only built."""
import shutil

import pytest
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbformat.v4 import new_notebook
from nbgrader.converters import Autograde, GenerateAssignment, GenerateFeedback
from nbgrader.preprocessors import ClearSolutions, Execute, OverwriteCells

from course import paths
from course.browser_safe import BrowserSafe
from course.cli import _overrides, parser
from course.grade import NO_SANDBOX
from course.nbgrader_api import course_directory, load_config
from course.nbgrader_plugins import ColabBadge, HideHiddenTests, InlineChecks, ResilientExecute
from course.paths import REPOSITORY_ROOT
from course.sandbox import SandboxedKernelManager, sandbox_refusal

ROOT = REPOSITORY_ROOT


def _converter(kind, overrides=None):
    config = load_config(ROOT, overrides)
    converter = kind(coursedir=course_directory(ROOT, config), config=config)
    converter.exporter = converter.exporter_class(parent=converter, config=converter.config)
    return converter


def _steps(kind, overrides=None, sanitizing=False):
    """The preprocessor instances the converter runs on a notebook, built as nbgrader builds
    them (Autograde: in _init_preprocessors, once to sanitize and once to grade; the others in
    start())."""
    converter = _converter(kind, overrides)
    if kind is Autograde:
        converter._sanitizing = sanitizing
        converter._init_preprocessors()
    else:
        for step in converter.preprocessors:
            converter.exporter.register_preprocessor(step)
    return converter.exporter._preprocessors


def _default(kind, trait):
    return kind.class_traits()[trait].default()


@pytest.fixture
def kernel_manager():
    """kernel_manager(overrides): the kernel manager autograde's executor would start a kernel
    with (created, not started)."""
    made = []

    def make(overrides=None):
        executor = _steps(Autograde, overrides)[0]
        # nbgrader's Execute passes AsyncKernelManager to its constructor as a default; nbconvert's
        # preprocess() initialises the client again from the config alone, as done here.
        NotebookClient.__init__(executor, new_notebook())
        made.append(executor.create_kernel_manager())
        return executor, made[-1]

    yield make
    for manager in made:
        if isinstance(manager, SandboxedKernelManager):
            shutil.rmtree(manager.runtime_dir, ignore_errors=True)


def test_autograde_is_nbgraders_pipeline_with_the_resilient_executor_in_executes_place():
    default = _default(Autograde, "autograde_preprocessors")
    assert Execute in default
    assert [type(step) for step in _steps(Autograde)] == [
        ResilientExecute if step is Execute else step for step in default]


def test_sanitizing_is_nbgraders_and_restores_deleted_test_cells():
    steps = _steps(Autograde, sanitizing=True)
    assert [type(step) for step in steps] == _default(Autograde, "sanitize_preprocessors")
    overwrite = next(step for step in steps if isinstance(step, OverwriteCells))
    assert overwrite.add_missing_cells, "course.intake notes a deleted test cell as restored"


def test_the_executor_runs_kernels_in_the_sandbox_with_the_configured_limits(kernel_manager):
    config = load_config(ROOT)
    executor, manager = kernel_manager()
    assert type(manager) is SandboxedKernelManager
    limits = ("memory_bytes", "cpu_seconds", "processes", "threads", "seccomp")
    assert {name: getattr(manager, name) for name in limits} == {
        name: config.SandboxedKernelManager[name] for name in limits}, "written out in the config"
    assert (executor.timeout, executor.startup_timeout) == (config.Execute.timeout, config.Execute.startup_timeout)
    assert (executor.max_output_chars, executor.max_kernel_deaths) == (
        config.ResilientExecute.max_output_chars, config.ResilientExecute.max_kernel_deaths)


def test_overrides_reach_the_executor_and_the_kernel_manager(kernel_manager):
    executor, manager = kernel_manager({"SandboxedKernelManager": {"memory_bytes": 2**30, "threads": 3},
                                        "ResilientExecute": {"max_output_chars": 1000}})
    assert (manager.memory_bytes, manager.threads, executor.max_output_chars) == (2**30, 3, 1000)


def test_no_sandbox_is_an_override_of_the_same_pipeline(kernel_manager):
    args = parser().parse_args(["grade", "--no-sandbox", "--timeout", "45"])
    overrides = _overrides(args)
    assert overrides == {"Execute": {**NO_SANDBOX["Execute"], "timeout": 45}}
    executor, manager = kernel_manager(overrides)
    assert type(manager) is AsyncKernelManager
    assert executor.timeout == 45
    assert [type(step) for step in _steps(Autograde, overrides)] == [type(step) for step in _steps(Autograde)]
    assert sandbox_refusal(load_config(ROOT, overrides)) is None, "nothing to refuse without the sandbox"


def test_feedback_is_nbgraders_then_the_hidden_tests_hidden_then_nothing_that_runs_in_a_browser():
    assert _converter(GenerateFeedback).preprocessors == (
        _default(GenerateFeedback, "preprocessors") + [HideHiddenTests, BrowserSafe])
    steps = [type(step) for step in _steps(GenerateFeedback)]  # nbconvert's HTMLExporter adds its own first
    assert steps[-2:] == [HideHiddenTests, BrowserSafe] and steps.count(HideHiddenTests) == 1


def test_release_inlines_the_checks_and_adds_the_badge_before_nbgraders_steps():
    steps = _steps(GenerateAssignment)
    assert [type(step) for step in steps] == [InlineChecks, ColabBadge] + _default(GenerateAssignment, "preprocessors")
    assert steps[1].repository, "the badge needs the repository that publishes release/"
    stub = next(step for step in steps if isinstance(step, ClearSolutions)).code_stub["python"]
    assert stub.splitlines()[-1] == "raise NotImplementedError()", (
        "an unanswered exercise fails its checks and is diagnosed as not answered")


def test_lesson_authoring_files_are_not_copied_to_students():
    assert {"wrong_answers.toml", "alternative_answers.toml"} <= set(course_directory(ROOT).ignore)


def test_course_paths_follow_the_configured_directory_structure(tmp_path):
    """Every course path comes from nbgrader's CourseDirectory.format_path: a course that lays
    its folders out as <student>/<step>/<lesson> is read and written there, and student ids
    with characters that mean something to glob or regex come back as they are."""
    (tmp_path / "nbgrader_config.py").write_text(
        (REPOSITORY_ROOT / "nbgrader_config.py").read_text()
        + '\nc.CourseDirectory.directory_structure = "{student_id}/{nbgrader_step}/{assignment_id}"\n')
    coursedir = course_directory(tmp_path)
    students = ["kim+lee (2)", "[x]*", "ada"]
    for student in students:
        paths.feedback_page(coursedir, student, "01_a").parent.mkdir(parents=True)
    (tmp_path / "bo" / "feedback" / "02_b").mkdir(parents=True)
    assert paths.feedback_page(coursedir, "ada", "01_a") == tmp_path / "ada/feedback/01_a/01_a.html"
    assert paths.students_with(coursedir, "feedback", "01_a") == sorted(students)
    assert paths.students_with(coursedir, "autograded", "01_a") == []
