"""Documents people download: PDF 问题清单 and rectification reports, built by ``reports/``."""
