"""4 x 6 inch shipping labels of outbound packages: ZPL II for thermal printers, and PDF.

Both carry the same fields: ship-from site, customer, order, contents, and the SSCC as a GS1-128
barcode (AI 00) with its human-readable line. ZPL is a dozen text commands, written here (no
maintained Python library does GS1-128 ZPL better than the printer's own ``^BC``); the PDF is
drawn with reportlab, whose Code 128 takes FNC1 as ``\\xf1``."""

from __future__ import annotations

import io
from typing import Any

DPI = 203  # the common thermal printer resolution: 812 x 1218 dots for 4 x 6 inches
WIDTH, HEIGHT = 4 * DPI, 6 * DPI
MAX_CONTENT_LINES = 8


def _zpl_text(value: object) -> str:
    """Field data without ZPL's command characters (^ and ~) or line breaks."""
    return " ".join(str(value).replace("^", " ").replace("~", " ").split())[:60]


def _contents(package: dict[str, Any]) -> list[str]:
    lines = [
        f"{c['qty']} x {c['sku']}" + (f" lot {c['lot']}" if c.get("lot") else "")
        for c in package["contents"]
    ]
    if len(lines) > MAX_CONTENT_LINES:
        lines = [
            *lines[: MAX_CONTENT_LINES - 1],
            f"... and {len(lines) - MAX_CONTENT_LINES + 1} more",
        ]
    return lines


def zpl(package: dict[str, Any]) -> str:
    """The label as ZPL II (UTF-8, ``^CI28``)."""
    sscc = package["sscc"]
    out = [
        "^XA",
        "^CI28",
        f"^PW{WIDTH}",
        f"^LL{HEIGHT}",
        f"^FO40,40^A0N,34,34^FDFROM: {_zpl_text(package['site'])}^FS",
        f"^FO40,90^A0N,50,50^FDTO: {_zpl_text(package.get('customer') or '')}^FS",
        f"^FO40,160^A0N,34,34^FDORDER: {_zpl_text(package.get('order_ref') or '')}^FS",
        "^FO40,210^GB732,3,3^FS",
    ]
    for n, line in enumerate(_contents(package)):
        out.append(f"^FO40,{240 + n * 40}^A0N,30,30^FD{_zpl_text(line)}^FS")
    out += [
        "^FO40,780^GB732,3,3^FS",
        "^FO40,800^A0N,30,30^FDSSCC^FS",
        # Code 128 in subset C with FNC1 (>8) first: GS1-128, AI (00), 18 digits
        f"^FO70,850^BY3^BCN,220,N,N,N^FD>;>800{sscc}^FS",
        f"^FO110,1090^A0N,40,40^FD(00) {sscc}^FS",
        "^XZ",
    ]
    return "\n".join(out) + "\n"


def pdf(package: dict[str, Any]) -> bytes:
    """The label as a one-page 4 x 6 inch PDF."""
    from reportlab.graphics.barcode.code128 import Code128
    from reportlab.lib.units import inch
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    width, height = 4 * inch, 6 * inch
    page = Canvas(buffer, pagesize=(width, height), pageCompression=1)
    page.setTitle(f"SSCC {package['sscc']}")
    top = height - 0.35 * inch
    page.setFont("Helvetica", 10)
    page.drawString(0.2 * inch, top, f"FROM: {package['site']}")
    page.setFont("Helvetica-Bold", 16)
    page.drawString(0.2 * inch, top - 0.3 * inch, f"TO: {package.get('customer') or ''}"[:40])
    page.setFont("Helvetica", 10)
    page.drawString(0.2 * inch, top - 0.55 * inch, f"ORDER: {package.get('order_ref') or ''}")
    page.line(0.2 * inch, top - 0.7 * inch, width - 0.2 * inch, top - 0.7 * inch)
    for n, line in enumerate(_contents(package)):
        page.drawString(0.2 * inch, top - (0.95 + n * 0.2) * inch, line[:60])
    sscc = package["sscc"]
    barcode = Code128("\xf100" + sscc, barHeight=1.2 * inch, barWidth=0.011 * inch, quiet=False)
    barcode.drawOn(page, (width - barcode.width) / 2, 0.7 * inch)
    page.setFont("Helvetica", 12)
    page.drawCentredString(width / 2, 0.45 * inch, f"(00) {sscc}")
    page.showPage()
    page.save()
    return buffer.getvalue()
