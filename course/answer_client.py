"""Graded test cells run outside the student's kernel, against the answers in it.

The kernel runs the student's cells; a test cell never goes there. The grader runs it here, in a
namespace of its own (the libraries of `checker_preamble` and the check helpers,
course/checks.py), where each name the cell reads that the notebook defines (an answer) is asked
of the kernel through a Session (course/answer_session.py). So nothing in the kernel decides a
check (what it changes in its own libraries, helpers or memory changes only the values it
sends), and no hidden test is ever in it.
"""
import ast
import builtins
import json

from nbformat import NotebookNode

from course import checks
from course.answer_session import (
    KERNEL_HELPERS,
    MAX_TEXT,
    TAG,
    AnswerError,
    AnswersUnreadable,
    AnswerTimeout,
    KernelGone,
    Remote,
)
from course.cell_names import free_reads
from course.test_scope import bound_in_scope, in_own_scope


def kernel_helper(name):
    """The training-record helper `name` (KERNEL_HELPERS) for the checks: asked of the kernel's
    own, with the answer's model."""
    def ask_the_kernel(model, *args, **kwargs):
        if not isinstance(model, Remote):
            raise TypeError(f"{name}: not an answer's model")
        return model._session.request({"op": "name", "name": name})(model, *args, **kwargs)

    ask_the_kernel.__name__ = name
    return ask_the_kernel


def checker_namespace(preamble):
    """The namespace test cells start from: `preamble` (Python code, trusted: it imports the
    libraries the checks use) run in it, then the check helpers (course/checks.py), then the
    training-record helpers that ask the kernel (kernel_helper)."""
    namespace = {"__name__": "__course_checks__", "__builtins__": builtins}
    exec(compile(preamble, "<checker preamble>", "exec"), namespace)
    namespace.update({name: value for name, value in vars(checks).items() if not name.startswith("__")})
    namespace.update({name: kernel_helper(name) for name in KERNEL_HELPERS})
    return namespace


def answer_names(source, namespace):
    """The names test cell `source` reads that neither the cell itself, `namespace` nor Python's
    built-ins bind: the ones asked of the kernel."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    read = set().union(*(free_reads(node) for node in tree.body)) if tree.body else set()
    own = bound_in_scope(tree)  # (its hidden tests' names too: never asked, so never seen there)
    return sorted(name for name in read - own if name not in namespace and not hasattr(builtins, name))


def run_test_cell(source, session, namespace, exercises):
    """Run test cell `source` here against the answers `session` reads from the kernel; its
    outputs, as a notebook cell's: [] when every check passed, else the error it ended with (the
    check helpers' Korean message, the line of the cell). `namespace` (checker_namespace, and
    what earlier test cells bound) gets what the cell binds, as in a notebook; so does the kernel,
    as data (not the names only the cell's hidden tests bind, course/test_scope.py, nor its
    functions): a later cell of the student's may use a test's data, as when the student runs it.
    Raises AnswerTimeout, KernelGone or AnswersUnreadable when the conversation with the kernel
    broke."""
    scope = dict(namespace)
    asked = {}
    for name in answer_names(source, namespace):
        try:
            scope[name] = asked[name] = session.request({"op": "name", "name": name})
        except NameError:
            pass  # the cell's own NameError says which exercise is not answered
        except (AnswerTimeout, KernelGone, AnswersUnreadable):
            raise
        except Exception as error:  # noqa: BLE001 (the answer's value could not be sent: its error)
            return [error_output(error, exercises)]
    before = dict(scope)
    try:
        exec(compile(in_own_scope(source) or source, "<test cell>", "exec"), scope)
        outputs = []
    except (AnswerTimeout, KernelGone, AnswersUnreadable):
        raise
    except Exception as error:  # noqa: BLE001 (a check that failed, or the answer's error)
        if isinstance(getattr(error, "__cause__", None), (AnswerTimeout, KernelGone, AnswersUnreadable)):
            raise error.__cause__ from None
        outputs = [error_output(error, exercises)]
    bound = {name: value for name, value in scope.items()
             if not name.startswith("__") and (name not in before or value is not before[name])}
    namespace.update({name: value for name, value in bound.items() if not isinstance(value, Remote)})
    handed = []
    for name, value in bound.items():
        if callable(value) and not isinstance(value, Remote):
            continue  # a function or a model of the checks' stays here
        try:
            handed.append([name, session.encode(value)])
        except (TypeError, ValueError, AnswersUnreadable, RecursionError):
            continue
    if handed:
        session.request({"op": "bind", "values": {TAG: "dict", "items": handed}})
        session.handed = [[name, wire] for name, wire in handed if f'"{TAG}": "ref"' not in json.dumps(wire)]
    return outputs


def error_output(error, exercises):
    """The error output a notebook shows for `error` (a test cell's): "Type: message" and the
    cell's line; for an exercise left blank, the Korean line that says what to do."""
    ename = getattr(error, "kernel_type", type(error).__name__)
    message = checks.blank_answer_text(error, getattr(error, "blank_function", None), exercises)
    evalue = message if message is not None else (str(error) if not isinstance(error, AnswerError)
                                                  else str(error).partition(": ")[2])
    lines = checks._short_traceback(error)
    lines[0] = f"{ename}: {evalue}"
    return NotebookNode(output_type="error", ename=ename, evalue=evalue[:MAX_TEXT * 2],
                        traceback=[line[:MAX_TEXT * 2] for line in lines])


__all__ = ["answer_names", "checker_namespace", "error_output", "run_test_cell"]
