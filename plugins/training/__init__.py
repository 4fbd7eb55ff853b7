"""Training: /课程 (list, show, define, material, retire), /结业 (completion by hand), /资质 (a member's own)."""

import re
from typing import Union

from nonebot import require
from nonebot.adapters import Bot, Event
from nonebot.log import logger
from nonebot.plugin import PluginMetadata
from nonebot.typing import T_State

require("nonebot_plugin_alconna")
require("nonebot_plugin_uninfo")

from nonebot_plugin_alconna import Args, Image, Match, MultiVar, UniMessage, UniMsg, image_fetch

from plugins._arguments import as_number
from plugins._common import CurrentPlace, command, finish, refuse_on_error
from plugins._texts.training import (
    COURSE_USAGE,
    GRADUATE_USAGE,
    text_for_course,
    text_for_course_list,
    text_for_created,
    text_for_marked,
    text_for_material,
    text_for_qualifications,
    text_for_retired,
)
from storage.errors import DomainError
from storage.services.training import completions, courses, qualifications

__plugin_meta__ = PluginMetadata(
    name="培训",
    description="课程、结业和资质：民警建课程、开培训、登记结业，队员看课程和自己的资质",
    usage="\n\n".join([COURSE_USAGE, GRADUATE_USAGE]),
)

course_command = command("课程", "course", Args["words", MultiVar(Union[str, Image], "*")])  # noqa: UP007
graduate_command = command("结业", "graduate", Args["words", MultiVar(str, "*")])
qualifications_command = command("资质", "quals")

NEW_WORDS = ("新建", "new")
NUMBER_SEPARATORS = re.compile(r"[,，、;；]+")
"""Between member numbers, as people write lists: /结业 3 12，15、16."""
RETIRE_WORDS = ("停用", "retire")
MATERIAL_WORDS = ("资料", "material")


@course_command.handle()
async def course(
    bot: Bot,
    event: Event,
    state: T_State,
    place: CurrentPlace,
    words: Match[tuple[str | Image, ...]],
    message: UniMsg,
) -> None:
    given = [word for word in words.result if isinstance(word, str)] if words.available else []
    if not given:
        await finish(text_for_course_list(await refuse_on_error(courses.list_courses(place.caller))))
    first = given[0]
    if len(given) == 1 and (number := as_number(first)) is not None:
        detail = await refuse_on_error(courses.show_course(place.caller, number))
        await finish(text_for_course(detail, place.in_group))
    if first in NEW_WORDS:
        spec = await refuse_on_error(_parsed(given[1:]))
        await finish(text_for_created(await refuse_on_error(courses.create_course(place.caller, spec))))
    number = as_number(given[1]) if len(given) > 1 else None
    if first in RETIRE_WORDS and number is not None and len(given) == 2:
        await finish(text_for_retired(await refuse_on_error(courses.retire_course(place.caller, number))))
    if first in MATERIAL_WORDS and number is not None:
        pictures = await refuse_on_error(_pictures(bot, event, state, message))
        text = _after_words(event.get_plaintext(), 3)
        material = await refuse_on_error(courses.set_material(place.caller, number, text, pictures))
        await finish(text_for_material(material))
    await finish(COURSE_USAGE)


async def _parsed(words: list[str]) -> courses.CourseSpec:
    return courses.parse_course(words)


def _after_words(text: str, count: int) -> str:
    """The text after its first `count` words, its line breaks kept (material is written in paragraphs)."""
    rest = text.strip()
    for _ in range(count):
        parts = rest.split(maxsplit=1)
        rest = parts[1] if len(parts) > 1 else ""
    return rest.strip()


async def _pictures(bot: Bot, event: Event, state: T_State, message: UniMessage) -> list[courses.Picture]:
    """The pictures sent with the material, fetched now (platform links expire)."""
    pictures = []
    for image in message[Image]:
        try:
            data = await image_fetch(event, bot, state, image)
        except Exception as error:  # reported, never kept as a link that stops working
            logger.warning(f"a course picture could not be fetched: {type(error).__name__}")
            data = None
        if not data:
            raise DomainError("training.picture_unreadable")
        suffix = "." + (image.mimetype or "image/jpeg").split("/")[-1].replace("jpeg", "jpg")
        pictures.append(courses.Picture(data=data if isinstance(data, bytes) else bytes(data), suffix=suffix))
    return pictures


@graduate_command.handle()
async def graduate(place: CurrentPlace, words: Match[tuple[str, ...]]) -> None:
    given = [
        part for word in (words.result if words.available else ()) for part in NUMBER_SEPARATORS.split(word) if part
    ]
    numbers = [as_number(word) for word in given]
    if len(given) < 2 or any(number is None for number in numbers):
        await finish(GRADUATE_USAGE)
    course_id, *members = [number for number in numbers if number is not None]
    marked = await refuse_on_error(completions.complete_by_hand(place.caller, course_id, members))
    await finish(text_for_marked(marked))


@qualifications_command.handle()
async def own_qualifications(place: CurrentPlace) -> None:
    await finish(text_for_qualifications(await refuse_on_error(qualifications.my_qualifications(place.caller))))
