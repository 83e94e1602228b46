"""Skills from data: trajectory clustering (Skill-It §2.3), regrouping, and the missing-skill profile.

    from skillit.discover import discover, regroup, missing_skill_profile
"""

from skillit.discover.cluster import Sweep, kmeans, silhouette_sweep
from skillit.discover.discovery import FEATURE_SETS, Discovery, discover
from skillit.discover.metrics import adjusted_rand, cluster_accuracy, recovery
from skillit.discover.profile import Outcome, Profile, missing_skill_profile
from skillit.discover.regroup import Regrouping, regroup
from skillit.discover.trajectories import Trajectories, TrajectoryConfig, loss_trajectories

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
