"""Records: what a run leaves behind (per-evaluation metrics, per-run results), the summary across seeds, and the
run folder's layout (its names, run ids and readers)."""

from skillit.records.layout import RunLayout, read_summary
from skillit.records.metrics import RunRecord, read_metrics, write_metrics
from skillit.records.summary import steps_to_target, summarize

__all__ = ["RunLayout", "RunRecord", "read_metrics", "read_summary", "steps_to_target", "summarize", "write_metrics"]
