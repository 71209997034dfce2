"""A notice PDF as the office receives one, made with reportlab and the reports' CJK font."""

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from reports.fonts import get_fonts


def notice_pdf(text: str, path: Path, size: float = 11) -> Path:
    """The notice's lines set on A4 pages, long lines wrapped at the margin as printed."""
    font = get_fonts().body
    width, height = A4
    usable = width - 100
    pdf = canvas.Canvas(str(path), pagesize=A4)
    y = height - 60
    for line in text.splitlines():
        parts, current = [], ""
        for ch in line:
            if stringWidth(current + ch, font, size) > usable:
                parts.append(current)
                current = ""
            current += ch
        parts.append(current)
        for part in parts:
            if y < 60:
                pdf.showPage()
                y = height - 60
            pdf.setFont(font, size)
            pdf.drawString(50, y, part)
            y -= size * 1.45
    pdf.save()
    return path
