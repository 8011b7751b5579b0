"""The package version, in a module of its own.

``dlcourse/__init__.py`` re-exports it; modules that print it (``session``, ``environment``) import
it from here, so that none of them imports the package root that imports them (a cycle).
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
