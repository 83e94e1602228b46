"""Skills from data: trajectory clustering (Skill-It §2.3), regrouping, and the missing-skill profile.

    from skillit.discover import discover, regroup, missing_skill_profile
"""

from __future__ import annotations

import sys
import types
from typing import Any

from skillit.utils.lazy import lazy_names

# name -> the module that defines it, imported on first use (PEP 562): the commands of skillit.discover.cli
# register without the trajectories and metrics (torch, scipy)
_LAZY: dict[str, str] = {
    **dict.fromkeys(("Sweep", "kmeans", "silhouette_sweep"), "skillit.discover.cluster"),
    **dict.fromkeys(("FEATURE_SETS", "Discovery", "discover"), "skillit.discover.discovery"),
    **dict.fromkeys(("adjusted_rand", "cluster_accuracy", "recovery"), "skillit.discover.metrics"),
    **dict.fromkeys(("Outcome", "Profile", "missing_skill_profile"), "skillit.discover.profile"),
    **dict.fromkeys(("Regrouping", "regroup"), "skillit.discover.regroup"),
    **dict.fromkeys(("Trajectories", "TrajectoryConfig", "loss_trajectories"), "skillit.discover.trajectories"),
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)


class _Package(types.ModuleType):
    """``regroup`` is both a submodule and its function: importing the submodule (``from skillit.discover.regroup
    import ...``) sets the package's ``regroup`` to the module; this keeps it the function, as it was when this
    package imported its submodules eagerly."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


__all__ = [
    "FEATURE_SETS",
    "Discovery",
    "Outcome",
    "Profile",
    "Regrouping",
    "Sweep",
    "TrajectoryConfig",
    "Trajectories",
    "adjusted_rand",
    "cluster_accuracy",
    "discover",
    "kmeans",
    "loss_trajectories",
    "missing_skill_profile",
    "recovery",
    "regroup",
    "silhouette_sweep",
]
