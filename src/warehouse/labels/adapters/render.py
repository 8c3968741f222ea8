"""Labels as ZPL II and as PDF, 4 x 2 inches, their symbols made by pystrich.

The symbols (GS1-128 or Code 128, and GS1 DataMatrix or Data Matrix) are laid out by pystrich,
which puts FNC1 where GS1 wants it (first, and after each variable-length field but the last;
which fields are variable comes from biip's table of Application Identifiers). The PDF draws
their modules as vector rectangles; the ZPL sends them as ``^GFA`` graphics at whole dots per
module, so what the printer prints is exactly what the tests decode (firmware differs in how
``^BC`` and ``^BX`` take FNC1). The text is the printer's own font.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from warehouse.labels.domain import Label

DPI = 203  # the common thermal printer resolution
WIDTH, HEIGHT = 4 * DPI, 2 * DPI  # 812 x 406 dots
BAR_DOTS = 2  # a narrow bar: 2 dots (0.25 mm), GS1-128's X-dimension for logistics at 203 dpi
BAR_HEIGHT = 150
CELL_DOTS = 5  # a Data Matrix module: 5 dots (0.63 mm)
BAR_TOP = 160  # where the linear symbol starts, below the text
MARGIN = 24


def _fields(elements: Sequence[tuple[str, str]]) -> list[Any]:
    from biip.gs1_application_identifiers import GS1ApplicationIdentifier
    from pystrich.gs1 import GS1Fixed, GS1Variable

    out = []
    for ai, value in elements:
        variable = GS1ApplicationIdentifier.extract(ai).separator_required
        out.append((GS1Variable if variable else GS1Fixed)(ai, value))
    return out


def symbols(label: Label) -> tuple[Any, Any]:
    """The label's linear and matrix symbols as pystrich encoders."""
    from pystrich.code128 import Code128Data, Code128Encoder
    from pystrich.datamatrix import DataMatrixData, DataMatrixEncoder

    if label.elements:
        fields = _fields(label.elements)
        linear, matrix = Code128Data.gs1(*fields), DataMatrixData.gs1(*fields)
    else:
        text = label.text or ""
        linear = Code128Data(text, encoding="ascii")
        matrix = DataMatrixData(text, encoding="ascii")
    return Code128Encoder(linear, {"show_label": False}), DataMatrixEncoder(matrix)


def _bitmap(marks: Any, dx: int, height: int) -> tuple[int, list[bytearray]]:
    """Marks (rectangles in module units) as rows of 1-bit pixels: ``dx`` dots a module across
    and the whole grid ``height`` dots high. Returns the bytes per row and the rows."""
    width = marks.width * dx
    per_row = (width + 7) // 8
    rows = [bytearray(per_row) for _ in range(height)]
    scale = height / marks.height
    for x, y, w, h in marks.marks:
        top, bottom = round(y * scale), round((y + h) * scale)
        for row in rows[top:bottom]:
            for px in range(x * dx, (x + w) * dx):
                row[px >> 3] |= 0x80 >> (px & 7)
    return per_row, rows


def _graphic(x: int, y: int, marks: Any, dx: int, height: int) -> str:
    per_row, rows = _bitmap(marks, dx, height)
    data = b"".join(rows)
    return f"^FO{x},{y}^GFA,{len(data)},{len(data)},{per_row},{data.hex().upper()}^FS"


def _zpl_text(value: object, limit: int = 60) -> str:
    """Field data without ZPL's command characters (^ and ~) or line breaks."""
    return " ".join(str(value).replace("^", " ").replace("~", " ").split())[:limit]


def zpl(labels: Sequence[Label], copies: int = 1) -> str:
    """The labels as ZPL II, one ``^XA...^XZ`` format each (UTF-8 text, ``^CI28``)."""
    out: list[str] = []
    for label in labels:
        linear, matrix = symbols(label)
        cells = matrix.get_rect_marks()
        size = cells.width * CELL_DOTS
        text_width = WIDTH - 2 * MARGIN - size - 16
        out += ["^XA", "^CI28", f"^PW{WIDTH}", f"^LL{HEIGHT}", f"^PQ{copies}"]
        out.append(
            f"^FO{MARGIN},{MARGIN}^A0N,34,34^FB{text_width},1,0,L^FD{_zpl_text(label.title)}^FS"
        )
        for n, line in enumerate(label.lines[:3]):
            y = MARGIN + 42 + n * 28
            out.append(f"^FO{MARGIN},{y}^A0N,24,24^FB{text_width},1,0,L^FD{_zpl_text(line)}^FS")
        out.append(_graphic(WIDTH - MARGIN - size, MARGIN, cells, CELL_DOTS, size))
        bars = linear.get_rect_marks()
        out.append(_graphic(MARGIN - 10 * BAR_DOTS, BAR_TOP, bars, BAR_DOTS, BAR_HEIGHT))
        readable = _zpl_text(label.human_readable, 90)
        out.append(f"^FO{MARGIN},{BAR_TOP + BAR_HEIGHT + 12}^A0N,26,26^FD{readable}^FS")
        out.append("^XZ")
    return "\n".join(out) + "\n"


def pdf(labels: Sequence[Label]) -> bytes:
    """The labels as a PDF, one 4 x 2 inch page each."""
    from reportlab.lib.units import inch
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    width, height = 4 * inch, 2 * inch
    page = Canvas(buffer, pagesize=(width, height), pageCompression=1)
    page.setTitle(labels[0].title if len(labels) == 1 else f"{len(labels)} labels")
    dot = inch / DPI
    for label in labels:
        linear, matrix = symbols(label)
        cells = matrix.get_rect_marks()
        size = cells.width * CELL_DOTS * dot
        page.setFont("Helvetica-Bold", 12)
        page.drawString(MARGIN * dot, height - (MARGIN + 26) * dot, label.title[:34])
        page.setFont("Helvetica", 9)
        for n, line in enumerate(label.lines[:3]):
            page.drawString(MARGIN * dot, height - (MARGIN + 62 + n * 28) * dot, line[:44])
        _draw(
            page, cells, width - MARGIN * dot - size, height - MARGIN * dot, CELL_DOTS * dot, None
        )
        bars = linear.get_rect_marks()
        _draw(
            page,
            bars,
            (MARGIN - 10 * BAR_DOTS) * dot,
            height - BAR_TOP * dot,
            BAR_DOTS * dot,
            BAR_HEIGHT * dot,
        )
        page.setFont("Courier", 9)
        page.drawString(
            MARGIN * dot, height - (BAR_TOP + BAR_HEIGHT + 30) * dot, label.human_readable[:60]
        )
        page.showPage()
    page.save()
    return buffer.getvalue()


def _draw(
    page: Any, marks: Any, left: float, top: float, module: float, tall: float | None
) -> None:
    """Marks as filled rectangles from ``(left, top)`` down; a module ``module`` points wide
    (and high, or the whole symbol ``tall`` points high for a linear one)."""
    scale = (tall / marks.height) if tall is not None else module
    for x, y, w, h in marks.marks:
        page.rect(left + x * module, top - (y + h) * scale, w * module, h * scale, stroke=0, fill=1)
