"""Records: what a run leaves behind (per-evaluation metrics, per-run results) and the summary across seeds."""

from skillit.records.metrics import RunRecord, read_metrics, write_metrics
from skillit.records.summary import steps_to_target, summarize

__all__ = ["RunRecord", "read_metrics", "steps_to_target", "summarize", "write_metrics"]
