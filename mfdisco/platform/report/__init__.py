"""Campaign reports: an HTML page with PNG figures (parity, divergence, hulls, cycles) and CIF downloads."""

from mfdisco.platform.report.data import CandidatePoint, CycleRow, HullPoint, ReportData, gather_report
from mfdisco.platform.report.page import write_report

__all__ = ["CandidatePoint", "CycleRow", "HullPoint", "ReportData", "gather_report", "write_report"]
