"""Reading a PDF as the people who receive it do: qpdf (what print software is
built on), Ghostscript (print rooms and mail houses), pdfium (Chrome's and Edge's
viewer) and poppler (pdftotext, pdffonts). pypdf alone once passed letters that
opened blank in Chrome."""

from __future__ import annotations

import html
import re
import subprocess
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pypdfium2

from campaign.letters import checks

MM = 72 / 25.4
WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
)


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, check=False)


def qpdf_problems(path: Path) -> str:
    """qpdf --check's warnings and errors; '' when clean."""
    result = run("qpdf", "--check", str(path))
    if result.returncode == 0 and "No syntax or stream encoding errors" in result.stdout:
        return ""
    return (result.stdout + result.stderr).strip()


def ghostscript_problems(paths: list[Path]) -> str:
    """Ghostscript renders every page of every file; its complaints, '' when none."""
    result = run("gs", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=nullpage", *map(str, paths))
    complaints = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if "error" in line.lower() or "warning" in line.lower() or "not found" in line
    ]
    if result.returncode or complaints:
        return "\n".join(complaints) or result.stderr
    return ""


def unembedded_fonts(path: Path) -> list[str]:
    """Fonts pdffonts lists without 'yes' in the emb column."""
    lines = run("pdffonts", str(path)).stdout.splitlines()[2:]
    # name type encoding emb sub uni object ID: emb is the 4th field from the right end.
    return [line for line in lines if line.split()[-5] != "yes"]


def poppler_words(path: Path, page: int = 1) -> list[tuple[str, float, float, float, float]]:
    """Words of a page with boxes in mm from the top left (pdftotext -bbox)."""
    found = run("pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(path), "-").stdout
    return [
        (html.unescape(w), float(a) / MM, float(b) / MM, float(c) / MM, float(d) / MM)
        for a, b, c, d, w in WORD.findall(found)
    ]


def pdfium_page(pdf: bytes, index: int = 0, scale: float = 2.0):
    """pdfium's picture (greyscale, 144 dpi) and text of one page."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[index]
        image = page.render(scale=scale, grayscale=True).to_pil().convert("L")
        text = page.get_textpage().get_text_range()
        return image, text
    finally:
        document.close()


def _letters(text: str) -> Counter:
    return Counter(c for c in text if not c.isspace() and c not in "-\ufffe\u00ad\x02")


def ink_where_words_are(pdf: bytes, path: Path) -> list[str]:
    """Words poppler finds on page 1 that pdfium draws no ink for, and words the two
    read differently. [] when pdfium shows what poppler reads."""
    image, text = pdfium_page(pdf)
    scale = 2.0 * MM  # pixels per mm
    missing = []
    words = poppler_words(path)
    for word, left, top, right, bottom in words:
        box = (int(left * scale), int(top * scale), int(right * scale) + 1, int(bottom * scale) + 1)
        darkest = image.crop(box).getextrema()[0]
        if darkest > 160:
            missing.append(f"no ink for {word!r} at {left:.0f},{top:.0f} mm")
    # The same characters (the two split hyphenated words and lines differently).
    ours, theirs = _letters(text), _letters("".join(w for w, *_ in words))
    if ours != theirs:
        missing.append(f"pdfium reads {ours - theirs} more, poppler {theirs - ours} more")
    return missing


def zone_problems(path: Path) -> list[str]:
    """Poppler's word boxes on page 1 against Notify's zones: a second reader's
    opinion beside checks.check_pdf's pdfium one."""
    problems = []
    for word, left, top, right, bottom in poppler_words(path):
        if not any(zone.holds(left, top, right, bottom) for zone in checks.FIRST_PAGE):
            where = f"{left:.1f}-{right:.1f} mm across, {top:.1f}-{bottom:.1f} mm down"
            problems.append(f"{word!r} at {where}")
    return problems


def assert_opens_everywhere(pdfs: dict[str, bytes], folder: Path, letters: bool = True) -> None:
    """Every PDF is clean for qpdf, Ghostscript, pdffonts, pdfium and the zones;
    and, when they are letters (not print packs), passes the mail-house check."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, pdf in pdfs.items():
        paths[name] = folder / (re.sub(r"[^\w-]+", "-", name) + ".pdf")
        paths[name].write_bytes(pdf)

    def external(name: str) -> list[str]:
        """The command-line readers (run in threads: they are other processes)."""
        found = []
        if problems := qpdf_problems(paths[name]):
            found.append(f"qpdf: {problems}")
        if fonts := unembedded_fonts(paths[name]):
            found.append(f"pdffonts: not embedded {fonts}")
        found += [f"zones: {p}" for p in zone_problems(paths[name])]
        return found

    with ThreadPoolExecutor(max_workers=4) as pool:
        found = dict(zip(pdfs, pool.map(external, pdfs), strict=True))
    for name, pdf in pdfs.items():  # pdfium is not thread-safe: one at a time
        found[name] += [f"pdfium: {p}" for p in ink_where_words_are(pdf, paths[name])]
        if letters:
            found[name] += [f"check: {p}" for p in checks.check_pdf(pdf)]
    problems = [f"{name}: {p}" for name, listed in found.items() for p in listed]
    listed = list(paths.values())
    for start in range(0, len(listed), 100):  # one Ghostscript for many files
        if problems_gs := ghostscript_problems(listed[start : start + 100]):
            problems.append(f"ghostscript: {problems_gs}")
    assert not problems, "\n".join(problems[:20])
