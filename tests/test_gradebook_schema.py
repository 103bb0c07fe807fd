"""The tests stamp new gradebooks with the alembic revision asked in-process (conftest.alembic_head):
it is the one nbgrader's own subprocess answers."""
import pytest
from conftest import NBGRADERS_ALEMBIC_VERSION, alembic_head

from course.nbgrader_api import tools_on_path


@pytest.mark.slow
def test_the_in_process_alembic_head_is_nbgraders():
    tools_on_path()
    asked_by_nbgrader = NBGRADERS_ALEMBIC_VERSION()
    assert len(asked_by_nbgrader) == 12 and int(asked_by_nbgrader, 16) >= 0
    assert asked_by_nbgrader == alembic_head()
