"""PDF documents with fpdf2 and an embedded CJK font (WenQuanYi Micro Hei by default, Debian's
``fonts-wqy-microhei``): the font is subset and embedded with its ToUnicode map, so a bank clerk's viewer shows
the Chinese without fonts of its own and the text can be searched and extracted (pypdf reads it back)."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from posrefund.ports.documents import Block, Document, Fields, Heading, Paragraph, Signatures, Table

FAMILY = "cjk"
LINE = 6.5  # mm per line of body text
BODY, TITLE, SECTION, SMALL = 10.5, 16, 12.5, 8
HEAD = FontFace(fill_color=(235, 235, 235))  # shaded, not bold: the CJK font has one weight


class FontMissing(RuntimeError):
    """The configured CJK font file is not there: Chinese cannot be printed, so nothing is."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"CJK font not found at {path}: install Debian's fonts-wqy-microhei (scripts/browser does) "
            "or set POSREFUND_DOCUMENTS__FONT_PATH to a TrueType/TTC font with Chinese glyphs"
        )


class _Pdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, size=SMALL)
        self.cell(0, 5, f"{self.footer_text}  第 {self.page_no()} 页 / {{nb}}", align="C")


class FpdfRenderer:
    """One renderer per process; each ``render`` builds a fresh document (fpdf2 objects are not shared)."""

    def __init__(self, font_path: Path) -> None:
        self.font_path = Path(font_path)

    def check(self) -> None:
        if not self.font_path.is_file():
            raise FontMissing(self.font_path)

    def render(self, document: Document) -> bytes:
        self.check()
        pdf = _Pdf(format="A4")
        pdf.footer_text = document.footer
        pdf.set_title(document.title)
        pdf.set_creator("posrefund")
        pdf.set_keywords(" ".join(document.keywords))
        pdf.set_auto_page_break(auto=True, margin=16)
        pdf.set_margins(16, 16, 16)
        pdf.add_font(FAMILY, fname=str(self.font_path))
        pdf.add_page()
        for block in document.blocks:
            _block(pdf, block)
        return bytes(pdf.output())


def _block(pdf: FPDF, block: Block) -> None:
    if isinstance(block, Heading):
        pdf.set_font(FAMILY, size=TITLE if block.level == 1 else SECTION)
        pdf.ln(2 if block.level == 1 else 3)
        pdf.multi_cell(0, 9 if block.level == 1 else 7.5, block.text, align="C" if block.level == 1 else "L")
        pdf.ln(1)
    elif isinstance(block, Paragraph):
        pdf.set_font(FAMILY, size=BODY)
        pdf.multi_cell(0, LINE, block.text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    elif isinstance(block, Fields):
        _fields(pdf, block)
    elif isinstance(block, Table):
        _table(pdf, block)
    else:
        _signatures(pdf, block)


def _fields(pdf: FPDF, block: Fields) -> None:
    pdf.set_font(FAMILY, size=BODY)
    label_w = 42
    for label, value in block.pairs:
        y = pdf.get_y()
        pdf.multi_cell(label_w, LINE, label, border=1, new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.multi_cell(0, LINE, value or " ", border=1, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_y(max(pdf.get_y(), y + LINE))


def _table(pdf: FPDF, block: Table) -> None:
    pdf.set_font(FAMILY, size=BODY - 1)
    if not block.rows:
        pdf.multi_cell(0, LINE, block.empty, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return
    with pdf.table(line_height=LINE, text_align="LEFT", headings_style=HEAD) as table:
        head = table.row()
        for text in block.header:
            head.cell(text)
        for values in block.rows:
            row = table.row()
            for text in values:
                row.cell(text)
    pdf.ln(1)


def _signatures(pdf: FPDF, block: Signatures) -> None:
    pdf.set_font(FAMILY, size=BODY)
    pdf.ln(6)
    for label in block.labels:
        pdf.cell(0, LINE * 1.6, f"{label}：________________________    日期：________年____月____日")
        pdf.ln(LINE * 1.8)
