"""Tip photos without what the camera wrote into them: position, camera, owner, time, thumbnails.

A phone's photo carries EXIF: where it was taken (GPS), the phone, often the owner's name (Artist), the time. For a
tip that may name the reporter of an anonymous tip, or their home. Every photo the bot keeps or shows is the picture
alone: decoded and encoded again with no EXIF, XMP, ICC profile, comment or text chunk, and nothing after the end
of the image (some phones append a second picture or their own data there). A photo taken on its side is turned
upright first (`ImageOps.exif_transpose`), so dropping its orientation tag does not turn it. JPEG, PNG, WEBP and
GIF keep their format (an animation keeps its first frame); any other format Pillow reads becomes a PNG. What is not
an image, or would decode to more than `MAX_PIXELS`, is refused (None).
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps

MAX_PIXELS = 60_000_000
"""A 200-megapixel phone photo is refused; a 50-megapixel one is not. Guards against decompression bombs."""

KEPT_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WEBP", "GIF": "GIF"}
HARMLESS_INFO = frozenset(
    {"jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi", "progressive", "progression", "version"}
    | {"background", "transparency", "duration", "timestamp", "loop", "gamma", "aspect", "interlace", "compression"}
)
"""What Pillow reads from a file's header that says nothing about who took it, where, or with what."""
IMAGE_ENDS: dict[str, tuple[bytes, ...]] = {
    "JPEG": (b"\xff\xd9",),
    "PNG": (b"IEND\xaeB`\x82",),
    "GIF": (b";",),
}


def _open(data: bytes) -> Image.Image | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS:
                return None
            image.load()  # decodes the first frame: a truncated or broken file fails here
        return image
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None


def without_metadata(data: bytes) -> bytes | None:
    """The picture alone, upright, in the same format; None if it is not an image this can read."""
    image = _open(data)
    if image is None:
        return None
    image_format = KEPT_FORMATS.get(image.format or "", "PNG")
    picture = ImageOps.exif_transpose(image) or image
    # a new image holds the pixels and nothing of the file they came from
    if image_format == "JPEG" and picture.mode not in ("RGB", "L", "CMYK"):
        picture = picture.convert("RGB")
    if image_format == "GIF" and picture.mode not in ("P", "L"):
        picture = picture.convert("P", palette=Image.Palette.ADAPTIVE)
    clean = Image.frombytes(picture.mode, picture.size, picture.tobytes())
    if picture.mode == "P":
        clean.putpalette(picture.getpalette() or [])
    output = io.BytesIO()
    options: dict[str, object] = {"quality": 92} if image_format in ("JPEG", "WEBP") else {}
    clean.save(output, image_format, **options)
    return output.getvalue()


def has_metadata(data: bytes) -> bool:
    """Whether the file holds anything besides the picture (True also for what is not a readable image)."""
    image = _open(data)
    if image is None:
        return True
    if set(image.info) - HARMLESS_INFO or len(image.getexif()) or getattr(image, "n_frames", 1) > 1:
        return True
    if image.format not in KEPT_FORMATS:
        return True
    if image.format == "WEBP":  # a RIFF file says how long it is
        return int.from_bytes(data[4:8], "little") + 8 != len(data)
    return not data.endswith(IMAGE_ENDS[image.format or ""])


def cleaned(data: bytes) -> bytes | None:
    """The photo as it may be kept or shown: itself where it holds nothing but the picture (a photo this module
    stored already), otherwise `without_metadata`; None if it is not an image."""
    return data if not has_metadata(data) else without_metadata(data)
