"""The tests stamp new gradebooks with the alembic revision asked in-process (conftest.alembic_head):
it is the one nbgrader's own subprocess answers."""
import re

import pytest
from conftest import NBGRADERS_ALEMBIC_VERSION, alembic_head

from course.nbgrader_api import tools_on_path


@pytest.mark.slow
def test_the_in_process_alembic_head_is_nbgraders():
    tools_on_path()
    asked_by_nbgrader = NBGRADERS_ALEMBIC_VERSION()
    assert re.fullmatch(r"[0-9a-f]{12}", asked_by_nbgrader), asked_by_nbgrader
    assert asked_by_nbgrader == alembic_head()
