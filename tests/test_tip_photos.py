"""A tip photo keeps the picture and loses what the phone wrote into it: the file the bot keeps and the picture an
officer is shown hold no position, no camera and no owner's name (storage/services/photos.py)."""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from nonebot.adapters.onebot.v11 import Message, MessageSegment
from nonebot.message import handle_event
from PIL import Image

from storage.services import membership, organisation, photos, tips
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef
from storage.settings import configure
from tests.chat import RecordingBot, onebot_private_message
from tests.places import in_group
from tests.refusals import refused

GROUP, OFFICER, REPORTER = 555001, 20001, 30001
ARTIST, GPS_IFD, ORIENTATION = 0x013B, 0x8825, 0x0112


def phone_photo(size: tuple[int, int] = (64, 48), orientation: int | None = None) -> bytes:
    """A JPEG as a phone writes it: left half red, right half blue, with the owner, the phone and the position."""
    image = Image.new("RGB", size, (220, 30, 30))
    image.paste((30, 30, 220), (size[0] // 2, 0, size[0], size[1]))
    exif = Image.Exif()
    exif[ARTIST] = "Zhao Tiezhu"
    exif[0x010F], exif[0x0110] = "PhoneMaker", "Phone 15"  # Make, Model
    if orientation is not None:
        exif[ORIENTATION] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps[1], gps[2], gps[3], gps[4] = "N", (36.0, 39.0, 52.5), "E", (117.0, 7.0, 18.2)
    output = io.BytesIO()
    image.save(output, "JPEG", exif=exif, quality=95)
    return output.getvalue()


def assert_only_the_picture(data: bytes, size: tuple[int, int] = (64, 48)) -> None:
    image = Image.open(io.BytesIO(data))
    image.load()
    assert (image.format, image.size) == ("JPEG", size)
    assert dict(image.getexif()) == {}
    assert "exif" not in image.info
    for written in (b"Exif", b"Zhao Tiezhu", b"PhoneMaker"):
        assert written not in data


@pytest.fixture
async def photo_url() -> AsyncIterator[str]:
    """Where the QQ client says the reporter's photo can be fetched."""

    async def picture(request: web.Request) -> web.Response:
        return web.Response(body=phone_photo(), content_type="image/jpeg")

    app = web.Application()
    app.router.add_get("/door.jpg", picture)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}/door.jpg"
    await runner.cleanup()


@pytest.fixture
async def reporter(database: str, tmp_path: Path) -> ChatAccount:
    configure(data_dir=str(tmp_path / "data"))
    await organisation.grant_officer(
        ChatAccount("onebot", "10001"), PersonRef(platform="onebot", user_id=str(OFFICER)), "派出所"
    )
    await organisation.bind_group(ChatAccount("onebot", str(OFFICER)), in_group(GROUP), "一队")
    reporter = ChatAccount("onebot", str(REPORTER))
    application = await membership.apply_to_team(reporter, in_group(GROUP), "赵铁柱", "13912345678", [])
    await membership.decide_application(ChatAccount("onebot", str(OFFICER)), approve=True, number=application.number)
    return reporter


async def send(user_id: int, message: str | Message) -> list[Message]:
    bot = RecordingBot()
    await handle_event(bot, onebot_private_message(user_id, message))
    return bot.replies()


def pictures_in(replies: list[Message]) -> list[bytes]:
    return [
        base64.b64decode(segment.data["file"].removeprefix("base64://"))
        for reply in replies
        for segment in reply
        if segment.type == "image"
    ]


async def test_a_tip_photo_is_kept_and_shown_without_position_camera_or_owner(
    reporter: ChatAccount, photo_url: str, tmp_path: Path
) -> None:
    for answer, expected in [
        ("/线索", "1/5"),
        ("赌博", "2/5"),
        ("三号楼地下室聚赌", "3/5"),
        (Message(MessageSegment.image(photo_url)), "已收到 1 张照片"),
        ("好了", "4/5"),
        ("跳过", "5/5"),
        ("匿名", "请确认"),
        ("确认", "编号"),
    ]:
        (reply,) = await send(REPORTER, answer)
        assert expected in reply.extract_plain_text()
    (tip,) = await tips.list_tips(ChatAccount("onebot", str(OFFICER)))

    (kept,) = (tmp_path / "data" / "tips" / str(tip.number)).iterdir()
    assert_only_the_picture(kept.read_bytes())

    (shown,) = pictures_in(await send(OFFICER, f"/线索 {tip.number}"))
    assert_only_the_picture(shown)
    assert shown == kept.read_bytes()

    # a photo kept by an earlier version still has its EXIF on disk: the officer is shown it without
    kept.write_bytes(phone_photo())
    (shown,) = pictures_in(await send(OFFICER, f"/线索 {tip.number}"))
    assert_only_the_picture(shown)


async def test_what_is_not_a_picture_is_refused_and_nothing_is_kept(reporter: ChatAccount, tmp_path: Path) -> None:
    tip = (await tips.report_tip(reporter, "赌博", "三号楼地下室聚赌")).tip
    with refused("打不开"):
        await tips.add_to_tip(reporter, tip.id, "", [tips.Photo(b"MZ\x90\x00 a program")])
    assert list((tmp_path / "data" / "tips").rglob("*.*")) == []


def test_a_photo_taken_on_its_side_stays_upright() -> None:
    upright = photos.without_metadata(phone_photo(orientation=6))  # the phone was turned: display it turned right
    assert upright is not None
    assert_only_the_picture(upright, size=(48, 64))
    image = Image.open(io.BytesIO(upright)).convert("RGB")
    red, blue = image.getpixel((24, 5)), image.getpixel((24, 58))
    assert red[0] > 150 > red[2]  # the left half (red) is now on top
    assert blue[2] > 150 > blue[0]


@pytest.mark.parametrize("kind", ["PNG", "WEBP", "GIF"])
def test_other_formats_keep_their_format_and_lose_their_metadata(kind: str) -> None:
    image = Image.new("RGB" if kind != "GIF" else "P", (40, 30))
    output = io.BytesIO()
    exif = Image.Exif()
    exif[ARTIST] = "Zhao Tiezhu"
    image.save(output, kind, **({"comment": b"Zhao Tiezhu"} if kind == "GIF" else {"exif": exif}))
    written = output.getvalue()
    assert photos.has_metadata(written)

    cleaned = photos.without_metadata(written)

    assert cleaned is not None
    assert b"Zhao Tiezhu" not in cleaned
    assert not photos.has_metadata(cleaned)
    assert Image.open(io.BytesIO(cleaned)).format == kind
    assert Image.open(io.BytesIO(cleaned)).size == (40, 30)
    assert photos.cleaned(cleaned) == cleaned  # a photo already kept without metadata is shown as it is


def test_something_appended_after_the_picture_is_dropped() -> None:
    appended = photos.without_metadata(phone_photo()) or b""
    appended += b"SEFT trailer: Zhao Tiezhu"
    assert photos.has_metadata(appended)
    assert b"Zhao Tiezhu" not in (photos.cleaned(appended) or b"Zhao Tiezhu")


def test_what_is_not_a_picture_or_would_fill_the_memory_is_refused() -> None:
    assert photos.without_metadata(b"MZ\x90\x00 a program") is None
    assert photos.without_metadata(phone_photo()[:200]) is None  # cut short
    huge = io.BytesIO()
    Image.new("1", (10_000, 7_000)).save(huge, "PNG")  # a few kilobytes that decode to 70 megapixels
    assert len(huge.getvalue()) < 100_000
    assert photos.without_metadata(huge.getvalue()) is None


async def test_a_photo_sent_with_an_addition_is_kept_without_metadata(
    reporter: ChatAccount, photo_url: str, tmp_path: Path
) -> None:
    tip = (await tips.report_tip(reporter, "赌博", "三号楼地下室聚赌")).tip
    addition = Message(f"/补充 {tip.id} 今晚又来了 ") + MessageSegment.image(photo_url)
    (reply,) = await send(REPORTER, addition)
    assert reply.extract_plain_text() == f"已补充到线索 {tip.id}。"
    (photo_only,) = await send(REPORTER, Message(f"/补充 {tip.id} ") + MessageSegment.image(photo_url))
    assert photo_only.extract_plain_text() == f"已补充到线索 {tip.id}。"
    (kept,) = (tmp_path / "data" / "tips" / str(tip.id)).iterdir()  # the same picture twice is kept once
    assert_only_the_picture(kept.read_bytes())
    seen = await tips.view_tip(ChatAccount("onebot", str(OFFICER)), tip.id)
    assert [entry.text for entry in seen.history][:3] == ["三号楼地下室聚赌", "今晚又来了", ""]
