"""How ``dlcourse.ref`` and ``dlcourse.gpu`` assemble their namespaces from their modules' ``__all__``."""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType


def public_names(namespace: Mapping[str, object]) -> list[str]:
    """The public names in a package's namespace, in the order they were bound.

    A package ``__init__`` runs ``from dlcourse.ref.<module> import *`` once per module, in
    lecture order, and each module's ``__all__`` says what that line binds; so this list is the
    modules' ``__all__`` one after another, and a new module needs one new import line only.
    Left out: private names, and the submodules themselves (the import system binds
    ``dlcourse.ref.conv`` etc. as attributes of the package; they are not re-exported).
    """
    return [name for name, value in namespace.items() if not name.startswith("_") and not isinstance(value, ModuleType)]
