"""Fonts for the PDF: an embedded CJK TrueType font when one is installed, else reportlab's CID font.

The printed sheet must never show boxes for Chinese. An embedded TrueType font looks the same on every
viewer and printer, so it is preferred; STSong-Light (a CID font reportlab knows without any file) keeps
the export working on a machine without CJK fonts, relying on the viewer to supply the glyphs.
Characters the main font lacks (☐ in WenQuanYi, say) are drawn from a symbol font when one covers them,
else by a look-alike or 〓, the typesetter's mark for a missing character, instead of an empty box.
"""
from __future__ import annotations

import glob
from dataclasses import dataclass
from functools import lru_cache
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont

# (path pattern, subfont index): TrueType-outline fonts only; reportlab cannot embed CFF (.otf) outlines,
# so the OpenType Noto CJK collections are tried but usually refused, and the next candidate is used.
CJK_CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/**/NotoSansSC-Regular.ttf", 0),
    ("/usr/share/fonts/**/NotoSansCJK-Regular.ttc", 2),  # index 2 = Simplified Chinese
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
)
SYMBOL_CANDIDATES: tuple[str, ...] = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",)
CID_FALLBACK = "STSong-Light"
MISSING_GLYPH = "〓"
# Adobe's UniGB-UCS2-H CMap (what viewers apply to STSong-Light) maps nearly all of GBK; measured against
# /usr/share/poppler/cMap/Adobe-GB1/UniGB-UCS2-H, these GBK characters are the gaps ("·" is the one a
# sheet meets) and "・" the extra the sheet needs as its stand-in.
_CID_GAPS = frozenset([0x7F, 0xB7, 0x144, 0x148, 0x251, 0x261, 0xF979, 0xF995, 0xF9E7, 0xF9F1, 0xFA0C,
                       0xFE31, *range(0xFE33, 0xFE45)])
_CID_EXTRA = frozenset("・")
SUBSTITUTES = {"·": "・"}  # same look, in every CJK font: used when neither font has the original


@dataclass(frozen=True)
class PdfFonts:
    """Registered font names and which characters each covers.

    `body_chars` is None for the CID fallback, whose Adobe-GB1 character collection spans GBK: a
    character is taken as covered when it encodes in GBK and the Unicode CMap maps it.
    """

    body: str
    embedded: bool
    body_chars: frozenset[int] | None
    symbol: str | None = None
    symbol_chars: frozenset[int] = frozenset()

    def covers(self, char: str) -> bool:
        if char in " \n\t":
            return True
        if self.body_chars is not None:
            return ord(char) in self.body_chars
        if char in _CID_EXTRA:
            return True
        try:
            char.encode("gbk")
        except UnicodeEncodeError:
            return False
        return ord(char) not in _CID_GAPS

    def _stand_in(self, char: str) -> str:
        """What to print for a character no font has: a look-alike the body font has, else 〓."""
        substitute = SUBSTITUTES.get(char, "")
        return substitute if substitute and self.covers(substitute) else MISSING_GLYPH

    def plain(self, text: str) -> str:
        """Text for canvas strings (header, footer), which are set in the body font alone."""
        return "".join(c if self.covers(c) else self._stand_in(c) for c in text)

    def markup(self, text: str) -> str:
        """Escape text for a reportlab Paragraph, routing characters the body font lacks.

        Runs the symbol font covers are wrapped in <font>; the rest get a stand-in (SUBSTITUTES or 〓),
        so nothing prints as a box.
        """
        out: list[str] = []
        run: list[str] = []

        def flush() -> None:
            if run:
                out.append(f'<font name="{self.symbol}">{escape("".join(run))}</font>')
                run.clear()

        for char in text:
            if self.covers(char):
                flush()
                out.append(escape(char))
            elif self.symbol and ord(char) in self.symbol_chars:
                run.append(char)
            else:
                flush()
                out.append(escape(self._stand_in(char)))
        flush()
        return "".join(out).replace("\n", "<br/>")


def _register_ttf(name: str, pattern: str, index: int) -> TTFont | None:
    for path in sorted(glob.glob(pattern, recursive=True)):
        try:
            font = TTFont(name, path, subfontIndex=index)
        except (TTFError, OSError, IndexError):
            continue
        pdfmetrics.registerFont(font)
        return font
    return None


@lru_cache(maxsize=2)
def pdf_fonts(embed: bool = True) -> PdfFonts:
    """Register and return the sheet's fonts; `embed=False` forces the CID fallback (tests use it)."""
    body = None
    if embed:
        for pattern, index in CJK_CANDIDATES:
            body = _register_ttf("SheetCJK", pattern, index)
            if body:
                break
    symbol = None
    for pattern in SYMBOL_CANDIDATES:
        symbol = _register_ttf("SheetSymbol", pattern, 0)
        if symbol:
            break
    symbol_name = symbol.fontName if symbol else None
    symbol_chars = frozenset(symbol.face.charToGlyph) if symbol else frozenset()
    if body is not None:
        return PdfFonts(body.fontName, True, frozenset(body.face.charToGlyph), symbol_name, symbol_chars)
    pdfmetrics.registerFont(UnicodeCIDFont(CID_FALLBACK))
    return PdfFonts(CID_FALLBACK, False, None, symbol_name, symbol_chars)
