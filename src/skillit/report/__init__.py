"""Reports: the comparison table printed at the end of a run, the plots and report.html written beside it,
live progress while it trains, and TensorBoard/W&B loggers (skillit.report.loggers)."""

from __future__ import annotations

from skillit.utils.lazy import lazy_names

# name -> the module that defines it, imported on first use (PEP 562): the console, table and live view load
# without the plots and statistics (matplotlib, scipy)
_LAZY: dict[str, str] = {
    "write_report": "skillit.report.html",
    "plot_run": "skillit.report.plots",
    **dict.fromkeys(("comparison_table", "comparison_tables"), "skillit.report.table"),
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)


__all__ = ["comparison_table", "comparison_tables", "plot_run", "write_report"]
