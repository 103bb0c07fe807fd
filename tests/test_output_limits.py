"""ResilientExecute's output limits, fed kernel messages by hand (no kernel): every kind of
output counts, per cell and per notebook, and no trick keeps more or drops an error."""
from nbformat.v4 import new_code_cell, new_notebook

from course.diagnose import cell_problems
from course.nbgrader_plugins import ResilientExecute, output_size
from course.status import OUTPUT_TRUNCATED

CELL, NOTEBOOK = 1_000, 3_000


def executor(cells=5):
    ex = ResilientExecute(max_output_chars=CELL, max_notebook_output_chars=NOTEBOOK)
    ex.nb = new_notebook(cells=[new_code_cell(f"cell_{i}()") for i in range(cells)])
    return ex


def message(msg_type, **content):
    return {"msg_type": msg_type, "header": {"msg_type": msg_type, "msg_id": "out"},
            "parent_header": {"msg_id": "run"}, "metadata": {}, "content": content}


def stream(text):
    return message("stream", name="stdout", text=text)


def display(data, display_id=None, update=False):
    transient = {"display_id": display_id} if display_id else {}
    return message("update_display_data" if update else "display_data",
                   data={"text/plain": data}, metadata={}, transient=transient)


def error(evalue, traceback=None):
    return message("error", ename="ValueError", evalue=evalue,
                   traceback=traceback or [f"ValueError: {evalue}"])


def run(ex, index, messages):
    """Feed the messages as cell `index`'s output, then finish the cell as after execution."""
    cell = ex.nb.cells[index]
    cell.outputs, ex.clear_before_next_output = [], False  # as nbclient starts a cell
    for msg in messages:
        ex.process_message(msg, cell, index)
    return ex._finish(cell, index)


def kept(cell):
    """Characters the cell's outputs hold, the grader's own notice left out."""
    return sum(output_size({k: v for k, v in o.items() if k != "output_type"})
               for o in cell.outputs if OUTPUT_TRUNCATED not in str(o.get("text", "")))


def truncated(cell):
    return any(OUTPUT_TRUNCATED in str(o.get("text", "")) for o in cell.outputs)


def test_output_within_the_limits_is_kept_whole():
    ex = executor()
    cell = run(ex, 0, [stream("a" * 300), display("b" * 300), stream("c" * 100)])
    assert [o.output_type for o in cell.outputs] == ["stream", "display_data", "stream"]
    assert cell.outputs[0].text == "a" * 300 and not truncated(cell)


def test_a_stream_flood_is_cut_at_the_cell_limit_and_said_so():
    ex = executor()
    cell = run(ex, 0, [stream("x" * 300) for _ in range(100)])
    assert kept(cell) <= CELL and "".join(o.text for o in cell.outputs[:-1]).startswith("x" * 300)
    assert truncated(cell)
    assert cell_problems(ex.nb) == ["출력이 너무 많아 잘림 (output flood truncated): cell 1"]


def test_one_huge_print_keeps_its_beginning():
    cell = run(executor(), 0, [stream("y" * 50_000_000)])
    assert cell.outputs[0].text == "y" * (CELL - len("name") - len("stdout") - len("text"))
    assert truncated(cell)


def test_update_display_cannot_grow_a_small_display():
    """The side door of issue 13: display(..., display_id) then update_display with 50 MB."""
    ex = executor()
    cell = run(ex, 0, [display("small", "d"), display("z" * 50_000_000, "d", update=True)])
    assert cell.outputs[0].data["text/plain"] == "small"
    assert kept(cell) <= CELL and truncated(cell)


def test_an_update_counts_once_per_output_it_rewrites():
    ex = executor()
    cell = run(ex, 0, [display("a", "d") for _ in range(200)] + [display("w" * 50, "d", update=True)])
    # 200 outputs × 50 characters is over the limit: the update is dropped everywhere.
    shown = [o.data["text/plain"] for o in cell.outputs if o.output_type == "display_data"]
    assert shown and set(shown) == {"a"}
    assert kept(cell) <= CELL


def test_an_update_from_a_later_cell_counts_there():
    ex = executor()
    run(ex, 0, [display("first", "d")])
    later = run(ex, 1, [display("v" * 5_000, "d", update=True)])
    assert ex.nb.cells[0].outputs[0].data["text/plain"] == "first" and truncated(later)


def test_results_and_metadata_count_too():
    ex = executor()
    big_result = message("execute_result", data={"text/plain": "r" * 5_000}, metadata={},
                         execution_count=1)
    big_metadata = message("display_data", data={"text/plain": "m"},
                           metadata={"junk": "j" * 5_000}, transient={})
    cell = run(ex, 0, [big_result, big_metadata])
    assert kept(cell) <= CELL and truncated(cell)


def test_clearing_the_output_does_not_reset_the_allowance():
    ex = executor()
    clear = message("clear_output", wait=False)
    cell = run(ex, 0, [m for _ in range(20) for m in (stream("c" * 400), clear)])
    assert ex._charged[0] <= CELL and truncated(cell)


def test_a_huge_error_is_kept_cut_short():
    ex = executor()
    cell = run(ex, 0, [error("e" * 30_000_000, ["frame"] * 100_000)])
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert len(errors) == 1 and errors[0].ename == "ValueError"
    assert len(errors[0].evalue) <= 2_000 and len(errors[0].traceback) == 1


def test_an_error_after_a_flood_still_fails_the_cell():
    """Flooding a test cell's output first must not drop the check's error (a free point)."""
    ex = executor()
    cell = run(ex, 2, [stream("f" * 10_000), error("check failed")])
    assert [o.evalue for o in cell.outputs if o.output_type == "error"] == ["check failed"]


def test_an_error_survives_a_clear_output_after_it():
    ex = executor()
    cell = run(ex, 2, [error("check failed"), message("clear_output", wait=False)])
    assert [o.evalue for o in cell.outputs if o.output_type == "error"] == ["check failed"]
    cell = run(ex, 3, [error("again"), message("clear_output", wait=True), stream("fine")])
    assert [o.evalue for o in cell.outputs if o.output_type == "error"] == ["again"]


def test_the_notebook_limit_holds_across_cells():
    ex = executor(cells=10)
    cells = [run(ex, i, [stream("n" * 900)]) for i in range(10)]
    assert sum(kept(c) for c in cells) <= NOTEBOOK
    assert [truncated(c) for c in cells] == [False] * 3 + [True] * 7


def test_widget_messages_are_ignored():
    ex = executor()
    comm = message("comm_msg", comm_id="c1", data={"state": {"value": "s" * 1_000_000}})
    cell = run(ex, 0, [comm, message("comm_open", comm_id="c2", target_name="jupyter.widget",
                                     data={"state": {"_model_name": "OutputModel"}})])
    assert cell.outputs == [] and not ex.widget_state and ex._total == 0


def test_replayed_cells_add_no_output():
    ex = executor()
    ex._replaying = True
    cell = run(ex, 0, [stream("again"), error("again")])
    assert cell.outputs == [] and ex._total == 0


def test_output_size_counts_nested_strings_without_recursion():
    deep = "x"
    for _ in range(100_000):
        deep = [deep]
    assert output_size({"a": "bc", "d": [1, "ef"]}) == 1 + 2 + 1 + 8 + 2
    assert output_size(deep) == 1
