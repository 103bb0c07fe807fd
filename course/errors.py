"""The one exception the course's library code raises."""


class CourseError(Exception):
    """A course command cannot go on; the message says why and what to do. The command line
    prints it and exits with status 2."""
