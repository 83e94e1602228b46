"""Reports: the comparison table printed at the end of a run and the plots written beside it."""

from skillit.report.plots import plot_run
from skillit.report.table import comparison_table

__all__ = ["comparison_table", "plot_run"]
