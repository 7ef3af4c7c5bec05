"""The association's letterhead: its details, logo and accent colour, checked before kept.

A logo goes inside every letter (WeasyPrint) and onto the lead's settings page, so an
upload is read strictly: a PNG that Pillow decodes, or an SVG that is only a drawing (no
DOCTYPE or entities, no scripts, no embedded pages, nothing fetched from elsewhere). The
letters' fetcher (only letters/ and data:) and the preview's Content-Security-Policy stay
as the second line of defence.
"""

from __future__ import annotations

import base64
import math
import re
import struct
from dataclasses import dataclass
from io import BytesIO
from xml.parsers import expat

from PIL import Image

from campaign.directory.models import Association

MAX_LOGO_BYTES = 512 * 1024
MAX_LOGO_SIDE = 2000  # pixels, for a PNG
MIN_ACCENT_CONTRAST = 4.5  # against white: the accent colours headings in letters (WCAG AA)
DEFAULT_ACCENT = "#1d3557"  # the same as letters/print.css and Association.accent's default
PNG = "image/png"
SVG = "image/svg+xml"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_NAMESPACE = "http://www.w3.org/2000/svg"
ACCENT_FORMAT = re.compile(r"#[0-9a-fA-F]{6}")
ACCENT_MESSAGE = "Enter the accent colour as # and six hexadecimal digits, like #1d3557"
# Where a logo may point: to its own parts, or to a raster image embedded in itself.
SAFE_REFERENCE = re.compile(r"#|data:image/(png|jpeg)[;,]", re.IGNORECASE)
# CSS ends an unclosed url( at the end of the text, so the pattern does too.
CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*(?:\)|$)""", re.IGNORECASE | re.DOTALL)
# What a file is, by its first bytes, to say so when it is not what its name claims.
KNOWN_FORMATS = [
    (PNG_SIGNATURE, "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP file (perhaps a Word or Excel document)"),
]


class LetterheadError(ValueError):
    """A logo or colour the letterhead cannot use; the message says what is wrong."""


@dataclass(frozen=True)
class Logo:
    data: bytes
    media_type: str  # PNG or SVG


def checked_logo(data: bytes, filename: str) -> Logo:
    """The upload as a logo the letters can use, or LetterheadError naming what is wrong."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1][:80]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in ("png", "svg"):
        raise LetterheadError("The logo must be a PNG or SVG file")
    if not data:
        raise LetterheadError(f"The logo file {name} is empty")
    if len(data) > MAX_LOGO_BYTES:
        raise LetterheadError(
            f"The logo is {_size(len(data))}; it can be at most {_size(MAX_LOGO_BYTES)}"
        )
    found = next((what for magic, what in KNOWN_FORMATS if data.startswith(magic)), None)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        found = "a WebP image"
    if extension == "png":
        if found != "a PNG image":
            raise LetterheadError(
                f"The logo must be a PNG or SVG file: {name} is {found or 'not a PNG image'}"
            )
        _check_png(data)
        return Logo(data, PNG)
    if found is not None:
        raise LetterheadError(f"The logo must be a PNG or SVG file: {name} is {found}")
    _check_svg(data)
    return Logo(data, SVG)


def checked_accent(value: str) -> str:
    """The colour as lower-case #rrggbb, if it reads well on white (blank: the default
    one); else LetterheadError."""
    value = (value or "").strip()
    if not value:
        return DEFAULT_ACCENT
    if not ACCENT_FORMAT.fullmatch(value):
        raise LetterheadError(ACCENT_MESSAGE)
    value = value.lower()
    ratio = contrast_ratio(value, "#ffffff")
    if ratio < MIN_ACCENT_CONTRAST:
        shown = math.floor(ratio * 10) / 10  # never round a failing 4.46 up to "4.5"
        raise LetterheadError(
            f"The accent colour {value} has a contrast of {shown:.1f}:1 against white; "
            "letters use it for headings, so choose a darker colour (at least 4.5:1)"
        )
    return value


def contrast_ratio(first: str, second: str) -> float:
    """The WCAG 2 contrast ratio of two #rrggbb colours, from 1 to 21."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def logo_data_uri(association: Association) -> str:
    """The association's logo as a data: URI for the letters, or "" if it has none."""
    if not association.logo or association.logo_type not in (PNG, SVG):
        return ""
    encoded = base64.b64encode(association.logo).decode("ascii")
    return f"data:{association.logo_type};base64,{encoded}"


def update_letterhead(
    association: Association,
    *,
    name: str,
    address: str,
    email: str,
    cosignatory_limit: int,
    accent: str,
    logo: Logo | None = None,
    remove_logo: bool = False,
) -> None:
    """Set the letterhead from checked values (see checked_logo and checked_accent)."""
    association.name = name.strip()
    association.address = "\n".join(
        line.strip() for line in (address or "").splitlines() if line.strip()
    )
    association.email = (email or "").strip().lower()
    association.cosignatory_limit = cosignatory_limit
    association.accent = checked_accent(accent)
    if logo is not None:
        association.logo, association.logo_type = logo.data, logo.media_type
    elif remove_logo:
        association.logo, association.logo_type = None, ""


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f} MB"
    return f"{math.ceil(count / 1024)} KB"  # up, so 512 KB and a byte never reads "512 KB"


def _luminance(colour: str) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def _check_png(data: bytes) -> None:
    # The size from the header first: Pillow refuses huge images with its own error.
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise LetterheadError("The logo is not a readable PNG image")
    width, height = struct.unpack(">II", data[16:24])
    if width > MAX_LOGO_SIDE or height > MAX_LOGO_SIDE:
        raise LetterheadError(
            f"The logo is {width:,} × {height:,} pixels; "
            f"it can be at most {MAX_LOGO_SIDE:,} × {MAX_LOGO_SIDE:,}"
        )
    # verify() reads every chunk and its checksum: load() alone accepts a cut-off file once
    # WeasyPrint is imported, as it sets ImageFile.LOAD_TRUNCATED_IMAGES for the whole process.
    try:
        with Image.open(BytesIO(data), formats=["PNG"]) as image:
            image.verify()
        with Image.open(BytesIO(data), formats=["PNG"]) as image:
            image.load()
    except Exception as error:  # a decoder of untrusted bytes can fail in many ways
        raise LetterheadError("The logo is not a readable PNG image (it may be damaged)") from error


def _check_svg(data: bytes) -> None:
    """Refuse an SVG that is more than a drawing; expat stops at the first thing refused."""
    parser = expat.ParserCreate(namespace_separator=" ")
    elements: list[str] = []
    style: list[str] = []

    def doctype(*_args) -> None:
        raise LetterheadError(
            "The logo's SVG has a DOCTYPE or ENTITY declaration; save it again without one"
        )

    def instruction(target: str, _data: str) -> None:
        raise LetterheadError(
            f"The logo's SVG has a processing instruction (<?{target} …?>); remove it"
        )

    def start(name: str, attributes: dict[str, str]) -> None:
        namespace, _, element = name.rpartition(" ")
        if not elements and (namespace, element) != (SVG_NAMESPACE, "svg"):
            raise LetterheadError(
                f"The logo must be an SVG drawing: its outer element is <{element}>, not <svg "
                f'xmlns="{SVG_NAMESPACE}">'
            )
        if element.lower() in ("script", "foreignobject"):
            raise LetterheadError(
                f"The logo's SVG contains a <{element}> element; logos cannot hold scripts "
                "or web content, so remove it"
            )
        elements.append(element)
        for key, value in attributes.items():
            attribute = key.rpartition(" ")[2]
            if attribute.lower().startswith("on"):
                raise LetterheadError(
                    f"The logo's SVG has an event attribute ({attribute}) on <{element}>; remove it"
                )
            if attribute == "href":
                _check_reference(value.strip(), element)
            # <set attributeName="href" to="javascript:…"> would swap a link in later.
            if attribute == "attributeName" and value.rpartition(":")[2].strip() == "href":
                raise LetterheadError(
                    f'The logo\'s SVG changes a link with <{element} attributeName="href">; '
                    "remove it"
                )
            # Only the SVG's own attributes are read as CSS; an editor's namespaced ones
            # (inkscape:export-filename="C:\\…") may hold backslashes.
            _check_css(value, element, escapes=" " in key)

    def end(_name: str) -> None:
        if elements.pop() == "style":
            _check_css("".join(style), "style")
            style.clear()

    def text(content: str) -> None:
        if elements and elements[-1] == "style":
            style.append(content)

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.ProcessingInstructionHandler = instruction
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise LetterheadError(
            f"The logo is not a valid SVG file: {expat.ErrorString(error.code)} "
            f"on line {error.lineno}"
        ) from error


def _check_reference(target: str, element: str) -> None:
    if not SAFE_REFERENCE.match(target):
        shown = target if len(target) <= 60 else target[:57] + "…"
        raise LetterheadError(
            f"The logo's SVG links to {shown or 'nothing'} (in <{element}>); a logo can link "
            "only to its own parts (#…) or to PNG or JPEG images embedded in it"
        )


def _check_css(css: str, element: str, *, escapes: bool = False) -> None:
    # CSS escapes could spell url( or @import in a way the patterns below do not see.
    if not escapes and "\\" in css:
        raise LetterheadError(
            f"The logo's SVG has a backslash in its styles (in <{element}>); remove it"
        )
    if "@import" in css.lower():
        raise LetterheadError(
            f"The logo's SVG imports a stylesheet (in <{element}>); a logo can use only its "
            "own styles, so remove the @import"
        )
    for match in CSS_URL.finditer(css):
        _check_reference(match.group(2).strip(), element)
