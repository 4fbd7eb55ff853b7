"""Pictures the bot sends: the leaderboard card, the 义警之星 certificate, the statistics chart and an invite's QR
code (segno).

Chinese is drawn with Noto Sans CJK SC from the mplfonts package (installed with the bot, so every machine has
the same glyphs); Pillow draws the cards and matplotlib the chart. Each function returns PNG bytes.
"""

from __future__ import annotations

import importlib.util
import io
import threading
import time
import unicodedata
from collections import OrderedDict
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import segno
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

from plugins._texts.standings import board_rows, board_title
from plugins._texts.stats import day_label
from plugins._texts.when import period_text
from storage import db
from storage.services.standings import Board
from storage.services.stats import Report

FONT_FILE = "NotoSansCJKsc-Regular.otf"
INK = (33, 37, 41)
MUTED = (108, 117, 125)
POLICE_BLUE = (16, 59, 125)
GOLD = (212, 160, 23)
MEDALS = {1: (212, 160, 23), 2: (150, 160, 170), 3: (176, 112, 64)}
PAPER = (250, 248, 242)


@cache
def font_path() -> Path:
    """The CJK font shipped in the mplfonts package."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("mplfonts is not installed: pip install mplfonts")
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / FONT_FILE
    if not path.is_file():
        raise RuntimeError(f"the CJK font {path} is missing")
    return path


@cache
def font_characters() -> frozenset[int]:
    """The code points the font has a glyph for, read once from its cmap (about 45,000)."""
    with TTFont(str(font_path()), lazy=True) as face:
        return frozenset(face.getBestCmap() or {})


SIMILAR = {"⭐": "★", "🌟": "★", "✨": "★", "✅": "√", "✔": "√", "❤": "♥", "➡": "→"}
"""Characters the font lacks, drawn as a similar one it has."""


@lru_cache(maxsize=1024)
def drawable(text: str) -> str:
    """The text with every character the font lacks replaced before it is drawn, so no picture shows a
    missing-glyph box: by its compatibility form when the font has that (NFKC: ｆ, ①, ㈱), by a similar character
    from SIMILAR (⭐ → ★), and otherwise removed (emoji such as 🚓, their skin tones and joiners, rare symbols);
    the spaces left over are closed up. Text with nothing drawable left becomes "?"."""
    have = font_characters()
    if all(ord(ch) in have for ch in text):
        return text
    kept: list[str] = []
    for ch in text:
        if ord(ch) in have:
            kept.append(ch)
        elif ch in SIMILAR:
            kept.append(SIMILAR[ch])
        elif (plain := unicodedata.normalize("NFKC", ch)) != ch and all(ord(c) in have for c in plain):
            kept.append(plain)
    cleaned = " ".join("".join(kept).split())
    return cleaned or "?"


@lru_cache(maxsize=16)
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path()), size)


PNG_COMPRESSION = 3
"""zlib's level for the cards: the same pixels as Pillow's `optimize` (level 9 and a search over filters) in a sixth
of the time, for files 6-8 % larger (a leaderboard card: 4 ms against 27 ms of CPU, 20 KB against 18 KB; with ten
rows 18 ms against 105 ms)."""

WHITE, ROW_SHADE, SUBTITLE, RULE = (255, 255, 255), (244, 246, 250), (200, 215, 240), (222, 226, 230)
_BOARD_INKS = [  # (ink, ground): each colour drawn on the card and what it is drawn on
    *((ink, ground) for ink in (INK, MUTED, POLICE_BLUE) for ground in (WHITE, ROW_SHADE)),
    (WHITE, POLICE_BLUE),
    (SUBTITLE, POLICE_BLUE),
    *((medal, ground) for medal in MEDALS.values() for ground in (WHITE, ROW_SHADE)),
    *((WHITE, medal) for medal in MEDALS.values()),
    (RULE, WHITE),
]


def _board_palette() -> Image.Image:
    """The leaderboard card's colours, and 15 steps between each ink and its ground (the edges of anti-aliased
    letters and circles), leaving out a step within 6 of a colour already there (Pillow maps a pixel to a palette
    through boxes of near colours, and white drew as 251,251,252 while a step next to it was in): 99 colours, so
    the card is a palette PNG. Mapped to this palette without dithering, a card takes a third of the CPU to encode
    (1 ms to map, 2 ms to compress, against 10 ms for RGB) and a third of the bytes, and looks the same."""
    colours: list[tuple[int, ...]] = []
    for ink, ground in _BOARD_INKS:
        for step in range(16):
            blend = tuple(round(g + (i - g) * step / 15) for i, g in zip(ink, ground, strict=True))
            if all(max(abs(a - b) for a, b in zip(blend, kept, strict=True)) > 6 for kept in colours):
                colours.append(blend)
    if len(colours) > 256:
        raise ValueError(f"the card's palette has {len(colours)} colours, more than a PNG palette holds")
    palette = Image.new("P", (1, 1))
    palette.putpalette([channel for colour in colours for channel in colour])
    return palette


BOARD_PALETTE = _board_palette()


def _png(image: Image.Image, palette: Image.Image | None = None) -> bytes:
    """The picture as PNG; with a palette, mapped to its nearest colours first (no dithering)."""
    if palette is not None:
        image = image.quantize(palette=palette, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=PNG_COMPRESSION)
    return buffer.getvalue()


def _fit(draw: ImageDraw.ImageDraw, text: str, size: int, width: int) -> str:
    """The text, drawable (see `drawable`) and shortened with … to fit the width at this size."""
    text = drawable(text)
    if draw.textlength(text, font=font(size)) <= width:
        return text
    while text and draw.textlength(text + "…", font=font(size)) > width:
        text = text[:-1]
    return text + "…"


BOARD_KEPT_SECONDS = 60.0
"""How long a drawn leaderboard card is kept for the same board asked for again."""
BOARD_KEPT_MAX = 64
_drawn_boards: OrderedDict[tuple[int, str, tuple[tuple[int, str, str], ...]], tuple[float, bytes]] = OrderedDict()
_drawn_boards_lock = threading.Lock()


def board_image(board: Board) -> bytes:
    """A ranked card: title and the top ten (or teams by points per member). The caller's own place is in the
    text beside it, not on the card, so every member asking for the same board gets the same card.

    Drawing one costs about 8 ms of CPU with ten rows (bench/service_cpu.py), most of a /排行榜, and the same board
    is often asked for by several members of a team within a minute (after the weekly board is posted, say). So the
    last cards drawn (at most BOARD_KEPT_MAX) are kept for BOARD_KEPT_SECONDS, by what is drawn on them: the title,
    every row (rank, who, value), and which opening of the database they came from (storage.db.openings). A board
    that changed is drawn again, and one a minute old too, so a card is never staler than a minute. Called from
    threads (asyncio.to_thread): the store takes a lock, the drawing does not (two threads may draw the same card
    at once; either result is kept). An empty board gets no card (plugins.points): its text says 还没有人有…记录.
    """
    key = (db.openings(), board_title(board), tuple(board_rows(board)))
    now = time.monotonic()
    with _drawn_boards_lock:
        kept = _drawn_boards.get(key)
        if kept is not None and now - kept[0] < BOARD_KEPT_SECONDS:
            _drawn_boards.move_to_end(key)
            return kept[1]
    picture = _draw_board(*key[1:])
    with _drawn_boards_lock:
        _drawn_boards[key] = (now, picture)
        _drawn_boards.move_to_end(key)
        while len(_drawn_boards) > BOARD_KEPT_MAX:
            _drawn_boards.popitem(last=False)
    return picture


def _draw_board(title: str, lines: tuple[tuple[int, str, str], ...]) -> bytes:
    width, top, row_height = 720, 150, 64
    height = top + row_height * max(len(lines), 1) + 30
    image = Image.new("RGB", (width, height), WHITE)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 120), fill=POLICE_BLUE)
    draw.text((36, 22), _fit(draw, title, 36, width - 72), font=font(36), fill=WHITE)
    draw.text((36, 74), "义警助手", font=font(22), fill=SUBTITLE)
    if not lines:
        draw.text((36, top), "还没有人上榜", font=font(28), fill=MUTED)
    for index, (rank, name, value) in enumerate(lines):
        y = top + index * row_height
        if index % 2 == 0:
            draw.rectangle((0, y - 8, width, y + row_height - 8), fill=ROW_SHADE)
        medal = MEDALS.get(rank)
        if medal:
            draw.ellipse((30, y, 76, y + 46), fill=medal)
            draw.text((53, y + 23), str(rank), font=font(26), fill=WHITE, anchor="mm")
        else:
            draw.text((53, y + 23), str(rank), font=font(26), fill=MUTED, anchor="mm")
        draw.text((100, y + 4), _fit(draw, name, 30, 400), font=font(30), fill=INK)
        draw.text((width - 36, y + 23), drawable(value), font=font(30), fill=POLICE_BLUE, anchor="rm")
    return _png(image, BOARD_PALETTE)


def certificate_image(team: str, member: str, month: str, points: int, hours: str) -> bytes:
    """The 义警之星 certificate for a team's member of the month."""
    width, height = 1000, 700
    image = Image.new("RGB", (width, height), PAPER)
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, width - 20, height - 20), outline=GOLD, width=8)
    draw.rectangle((40, 40, width - 40, height - 40), outline=POLICE_BLUE, width=2)
    centre = width // 2
    draw.text((centre, 120), "荣 誉 证 书", font=font(64), fill=POLICE_BLUE, anchor="mm")
    draw.text((centre, 230), _fit(draw, member, 72, 760), font=font(72), fill=INK, anchor="mm")
    lines = [f"荣获 {team} {month}", "「义警之星」称号", f"当月获得 {points} 分，服务 {hours}"]
    for index, line in enumerate(lines):
        size = 40 if index == 1 else 30
        draw.text((centre, 340 + index * 70), _fit(draw, line, size, 860), font=font(size), fill=INK, anchor="mm")
    draw.text((centre, 600), "特发此证，以资鼓励 · 义警助手", font=font(26), fill=MUTED, anchor="mm")
    return _png(image)


def image_for(spec: dict[str, Any]) -> bytes:
    """A picture an outbox message describes (drawn when it is sent, so the outbox holds no pictures)."""
    if spec.get("kind") == "honour":
        return certificate_image(
            str(spec.get("team", "")),
            str(spec.get("member", "")),
            str(spec.get("month", "")),
            int(spec.get("points", 0)),
            str(spec.get("hours", "")),
        )
    raise ValueError(f"no picture of kind {spec.get('kind')!r}")


@cache
def _pyplot():
    """matplotlib, loaded on first use (it is large) and told to draw Chinese with the bundled font."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager, pyplot

    font_manager.fontManager.addfont(str(font_path()))
    name = font_manager.FontProperties(fname=str(font_path())).get_name()
    matplotlib.rcParams["font.family"] = [name]
    matplotlib.rcParams["axes.unicode_minus"] = False
    return pyplot


def stats_chart(report: Report) -> bytes:
    """Bars: for a unit, patrol person-times and hours served by each part; for a team, check-ins by day."""
    pyplot = _pyplot()
    figure, axis = pyplot.subplots(figsize=(8, 4.5), dpi=100)
    try:
        if report.parts:
            names = [drawable(part.name) for part in report.parts]
            positions = range(len(names))
            axis.barh([p + 0.2 for p in positions], [p.patrols for p in report.parts], 0.4, label="巡逻人次")
            axis.barh([p - 0.2 for p in positions], [p.hours for p in report.parts], 0.4, label="服务小时")
            axis.set_yticks(list(positions), names)
            axis.invert_yaxis()
            axis.legend()
        else:
            labels = [day_label(day, report.weekly) for day, _, _ in report.days]
            axis.bar(labels, [count for _, count, _ in report.days], color="#103b7d", label="签到人次")
            axis.set_ylabel("签到人次")
            step = max(len(labels) // 10, 1)
            axis.set_xticks(range(0, len(labels), step), labels[::step])
        axis.set_title(drawable(f"{report.total.name} {period_text(report.period)}"))
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        pyplot.close(figure)


def qr_image(payload: str) -> bytes:
    """A QR code of `payload` (an invite's link or the words to send), as a PNG large enough to scan from a
    phone's screen: segno, medium error correction, 8 pixels a module and the standard quiet zone."""
    output = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(output, kind="png", scale=8, border=4)
    return output.getvalue()
