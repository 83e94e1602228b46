"""Reports: the comparison table printed at the end of a run, the plots and report.html written beside it,
live progress while it trains, and TensorBoard/W&B loggers (skillit.report.loggers)."""

from skillit.report.html import write_report
from skillit.report.plots import plot_run
from skillit.report.table import comparison_table, comparison_tables

__all__ = ["comparison_table", "comparison_tables", "plot_run", "write_report"]
