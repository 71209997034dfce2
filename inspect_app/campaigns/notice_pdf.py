"""The text of a notice PDF as the office received it, by poppler's ``pdftotext -layout``.

The PDF is written to a private temporary file and read by a separate process with a
time limit, so a hostile or broken file costs a few seconds at most and never the app.
``notice_text`` takes an upload of either kind (PDF or UTF-8 text), for the API and the
dashboard alike.
"""

import subprocess
import tempfile
from pathlib import Path

from inspect_app.errors import Invalid, UnsupportedMediaType
from inspect_app.input_rules import text_problem

PDFTOTEXT = "pdftotext"
TIMEOUT_SECONDS = 20
MAX_PDF_BYTES = 20 * 1024 * 1024
MAX_TEXT_CHARS = 500_000


class PdfTextError(ValueError):
    """The PDF gives no text; ``message`` says why in Chinese."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def looks_like_pdf(data: bytes) -> bool:
    # The header may follow a little junk; readers accept it within the first kilobyte.
    return b"%PDF-" in data[:1024]


def pdf_text(data: bytes) -> str:
    """The PDF's text with its layout kept (as the shared notices were extracted)."""
    if len(data) > MAX_PDF_BYTES:
        raise PdfTextError(f"PDF 文件超过 {MAX_PDF_BYTES // 2**20} MB 的上限")
    if not looks_like_pdf(data):
        raise PdfTextError("上传的文件不是 PDF：请上传通知的 PDF 文件，或粘贴通知全文")
    with tempfile.TemporaryDirectory(prefix="notice-") as folder:
        path = Path(folder) / "notice.pdf"
        path.write_bytes(data)
        try:
            result = subprocess.run(
                [PDFTOTEXT, "-layout", "-enc", "UTF-8", "-q", str(path), "-"],
                capture_output=True,
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise PdfTextError("PDF 文字提取超时：文件可能已损坏，请重新导出后上传") from None
        except FileNotFoundError:
            raise PdfTextError(
                "服务器缺少 PDF 文字提取工具（poppler-utils），请联系管理员"
            ) from None
    if result.returncode != 0:
        raise PdfTextError("无法读取该 PDF：文件已损坏或加密，请重新导出后上传，或粘贴通知全文")
    text = result.stdout.decode("utf-8", errors="replace").replace("\f", "\n")
    if len(text) > MAX_TEXT_CHARS:
        raise PdfTextError("PDF 文字过长，不像一份通知：请只上传通知及其工作方案")
    if not text.strip():
        raise PdfTextError(
            "PDF 中没有可提取的文字（可能是扫描件）：请上传文字版 PDF，或粘贴通知全文"
        )
    return text


def notice_text(data: bytes, media_type: str) -> str:
    """The notice's text from an uploaded PDF or plain text; Invalid (422) when there is none."""
    if media_type == "application/pdf" or (not media_type and looks_like_pdf(data)):
        try:
            return pdf_text(data)
        except PdfTextError as exc:
            raise Invalid(exc.message) from None
    if media_type and media_type != "text/plain":
        raise UnsupportedMediaType("只接受通知的 PDF 文件（application/pdf）或纯文本（text/plain）")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("通知文本应为 UTF-8 编码") from None
    problem = text_problem(text)
    if problem:
        raise Invalid(f"通知文本{problem}")
    if len(text) > MAX_TEXT_CHARS:
        raise Invalid("通知文本过长，不像一份通知：请只上传通知及其工作方案")
    return text
