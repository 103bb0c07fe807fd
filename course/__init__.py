"""Neural-network basics course: shared check helpers and the instructor command line."""

__version__ = "0.1.0"
