"""The reference interpreter: runs each node's ``Op.perform`` in topological order."""

from backends.python.linker import PythonLinker

__all__ = ["PythonLinker"]
