"""Self-tests of the platform stand-ins against a minimal real NoneBot process (OneBot v11 + Telegram)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from fake_telegram import FakeTelegram, detect_entities
from onebot_peer import (
    OneBotPeer,
    OneBotRefused,
    at_segment,
    location_card,
    normalise_message,
    reply_segment,
    text_segment,
    to_cq,
)
from process import PYTHON, BotProcess, free_port, phase_failed

pytestmark = pytest.mark.e2e
session_loop = pytest.mark.asyncio(loop_scope="session")  # the loop the module-wide fake and bot live in

ONEBOT_TOKEN = "e2e-secret"
TELEGRAM_TOKEN = "123456:TEST"
GROUP = -1001234

PING_BOT = textwrap.dedent(
    '''
    """A minimal NoneBot: /ping answers "pong <text>" on OneBot v11 and Telegram; a few Telegram extras."""
    import json
    import sys

    import nonebot

    settings = json.loads(open(sys.argv[1], encoding="utf-8").read())
    nonebot.init(
        driver="~fastapi+~aiohttp",
        host="127.0.0.1",
        port=settings["port"],
        onebot_access_token=settings["onebot_token"],
        telegram_bots=[{"token": settings["telegram_token"], "api_server": settings["api_server"]}],
        command_start={"/"},
        log_level="DEBUG",
    )

    from nonebot import on_command, on_type
    from nonebot.adapters import Bot, Message
    from nonebot.adapters.onebot.v11 import Adapter as OneBotAdapter
    from nonebot.adapters.onebot.v11 import MessageSegment as OneBotSegment
    from nonebot.adapters.telegram import Adapter as TelegramAdapter
    from nonebot.adapters.telegram.event import CallbackQueryEvent, MessageEvent as TelegramMessageEvent
    from nonebot.adapters.telegram.message import File
    from nonebot.adapters.telegram.model import InlineKeyboardButton, InlineKeyboardMarkup
    from nonebot.params import CommandArg

    driver = nonebot.get_driver()
    driver.register_adapter(OneBotAdapter)
    driver.register_adapter(TelegramAdapter)

    ping = on_command("ping")


    @ping.handle()
    async def _(bot: Bot, args: Message = CommandArg()):
        text = args.extract_plain_text().strip()
        reply = f"pong {text}" if text else "pong"
        if bot.adapter.get_name() == "OneBot V11":
            await ping.finish(OneBotSegment.text(reply))  # plain text, never parsed for CQ codes
        await ping.finish(reply)


    document = on_command("doc")


    @document.handle()
    async def _(event: TelegramMessageEvent):
        await document.finish(File.document(("report.csv", "名字,分\\n张三,3\\n".encode())))


    buttons = on_command("buttons")


    @buttons.handle()
    async def _(bot: Bot, event: TelegramMessageEvent):
        keyboard = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="A", callback_data="pick:a")]])
        await bot.send_message(chat_id=event.chat.id, text="choose", reply_markup=keyboard)


    @on_type(CallbackQueryEvent).handle()
    async def _(bot: Bot, event: CallbackQueryEvent):
        await bot.answer_callback_query(callback_query_id=event.id, text="ok")
        message = event.message
        await bot.edit_message_text(
            text=f"picked {event.data}", chat_id=message.chat.id, message_id=message.message_id
        )


    nonebot.run()
    '''
)


@dataclass
class PingBot:
    process: BotProcess
    port: int

    @property
    def onebot_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/onebot/v11/ws"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TELEGRAM_TOKEN) as fake:
        yield fake


def ping_bot_process(directory: Path, telegram: FakeTelegram) -> tuple[BotProcess, int]:
    """The minimal bot as a BotProcess (not started yet) on a free port, and that port."""
    port = free_port()
    script = directory / "ping_bot.py"
    script.write_text(PING_BOT, encoding="utf-8")
    settings = directory / "settings.json"
    settings.write_text(
        json.dumps(
            {
                "port": port,
                "onebot_token": ONEBOT_TOKEN,
                "telegram_token": TELEGRAM_TOKEN,
                "api_server": telegram.api_server,
            }
        ),
        encoding="utf-8",
    )
    process = BotProcess([PYTHON, str(script), str(settings)], env={}, cwd=directory, log_path=directory / "bot.log")
    return process, port


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def ping_bot(telegram: FakeTelegram, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[PingBot]:
    process, port = ping_bot_process(tmp_path_factory.mktemp("ping_bot"), telegram)
    process.start()  # the fake Telegram must be up first: the adapter gives up for good if getMe fails
    try:
        await process.wait_for_port(port, timeout=30)
        await telegram.wait_polling(timeout=30)
        yield PingBot(process, port)
    finally:
        await process.stop_async()


@pytest.fixture(autouse=True)
def _bot_log_on_failure(request: pytest.FixtureRequest):
    yield
    if "ping_bot" in request.fixturenames and phase_failed(request):
        print(request.getfixturevalue("ping_bot").process.log_tail(80))  # noqa: T201


_self_ids = iter(range(10000, 10100))


@pytest_asyncio.fixture(loop_scope="session")
async def peer(ping_bot: PingBot) -> AsyncIterator[OneBotPeer]:
    # a self id of its own per test: the bot refuses a second connection while it still holds one with the same id
    async with OneBotPeer(ping_bot.onebot_url, self_id=str(next(_self_ids)), access_token=ONEBOT_TOKEN) as onebot:
        yield onebot


# ------------------------------------------------------------------------------------------------ OneBot v11


@session_loop
async def test_onebot_group_ping_gets_pong_through_send_msg(peer: OneBotPeer) -> None:
    from nonebot.adapters.onebot.v11 import Adapter, GroupMessageEvent, LifecycleMetaEvent

    peer.add_user(10001, "张三", card="一队 张三")
    reply = await peer.ask_group(20001, 10001, "/ping a&[b],c")
    assert reply.action == "send_msg"
    assert reply.message_type == "group"
    assert reply.group_id == 20001
    assert reply.text == "pong a&[b],c"
    assert reply.message == [text_segment("pong a&[b],c")]
    assert reply.raw["message_type"] == "group"
    assert reply.raw["user_id"] == 10001

    found = await peer.expect_group(20001, "pong", timeout=1)
    assert found is reply

    # what the peer played is valid OneBot v11 to the adapter's own models
    lifecycle, message = (Adapter.json_to_event(event) for event in peer.events[:2])
    assert isinstance(lifecycle, LifecycleMetaEvent)
    assert lifecycle.sub_type == "connect"
    assert isinstance(message, GroupMessageEvent)
    assert message.sender.card == "一队 张三"
    assert message.sender.role == "member"
    assert peer.events[1]["raw_message"] == "/ping a&amp;&#91;b&#93;,c"


@session_loop
async def test_onebot_at_reply_and_private_messages(peer: OneBotPeer) -> None:
    from nonebot.adapters.onebot.v11.event import Reply

    peer.add_user(10002, "李四", group_id=20002, role="admin")
    first = await peer.ask_group(20002, 10002, [at_segment(peer.self_id), text_segment(" /ping hi")])
    assert first.text == "pong hi"

    # a quote of the bot's message: the adapter looks it up with get_msg, sees it is the bot's, strips it
    again = await peer.ask_group(20002, 10002, [reply_segment(first.message_id), text_segment("/ping again")])
    assert again.text == "pong again"
    get_msg = peer.calls_to("get_msg")[-1]
    assert get_msg.ok
    assert Reply.model_validate(get_msg.response["data"]).sender.user_id == int(peer.self_id)

    private = await peer.ask_private(10002, "/ping")
    assert private.message_type == "private"
    assert private.user_id == 10002
    assert private.text == "pong"

    # a location card is played as NapCat reports it; the ping bot ignores it
    await peer.group_message(20002, 10002, [location_card(36.6512, 117.1201, "泉城广场")])
    await peer.expect_nothing(0.3)

    with pytest.raises(AssertionError) as failure:
        await peer.expect_group(20002, "never said", timeout=0.2)
    assert "pong hi" in str(failure.value)
    assert "never said" in str(failure.value)


@session_loop
async def test_onebot_bad_token_is_refused(ping_bot: PingBot) -> None:
    for token in ("wrong-token", None):
        intruder = OneBotPeer(ping_bot.onebot_url, self_id="10199", access_token=token)
        with pytest.raises(OneBotRefused) as refused:
            await intruder.connect(timeout=5)
        assert refused.value.status == 403
        assert not intruder.connected


@session_loop
async def test_onebot_api_answers(peer: OneBotPeer) -> None:
    """The built-in API answers, as the bot would see them (answered in-process, no bot involved)."""
    peer.add_user(10003, "王五", card="", group_id=20003)
    calls = {
        "get_login_info": {},
        "get_group_info": {"group_id": 20003},
        "get_group_member_info": {"group_id": 20003, "user_id": 10003, "no_cache": True},
        "get_group_member_list": {"group_id": 20003},
        "get_stranger_info": {"user_id": 10003},
        "get_friend_list": {},
        "get_group_list": {},
        "get_version_info": {},
        "get_status": {},
        "can_send_image": {},
        "can_send_record": {},
        "send_group_msg": {"group_id": 20003, "message": "hello [CQ:at,qq=10003] &#91;x&#93;"},
        "send_private_msg": {"user_id": 10003, "message": [text_segment("hi")]},
        "upload_group_file": {"group_id": 20003, "file": "base64://eGxzeA==", "name": "x.xlsx"},
    }
    answers = {
        action: peer._answer({"action": action, "params": params, "echo": "1"}) for action, params in calls.items()
    }
    assert all(a["status"] == "ok" and a["retcode"] == 0 and a["echo"] == "1" for a in answers.values()), answers
    assert answers["get_login_info"]["data"]["user_id"] == int(peer.self_id)
    assert answers["get_group_member_info"]["data"]["nickname"] == "王五"
    group_message = peer.sent[-2]
    assert group_message.text == "hello  [x]"
    assert group_message.segments("at") == [at_segment(10003)]
    assert peer.sent[-1].message_type == "private"
    assert peer.sent[-1].text == "hi"
    assert peer.files[-1].params["name"] == "x.xlsx"
    assert peer.files[-1].params["content"] == b"xlsx"  # read when asked, as NapCat does

    unknown = peer._answer({"action": "set_group_kick", "params": {}, "echo": 2})
    assert unknown["status"] == "failed"
    assert unknown["retcode"] == 1404
    missing = peer._answer({"action": "get_group_member_info", "params": {"group_id": 20003, "user_id": 1}})
    assert missing["status"] == "failed"


def test_cq_codes_round_trip() -> None:
    segments = normalise_message("pong [CQ:at,qq=10001] a&amp;&#91;b&#93;,c")
    assert segments == [text_segment("pong "), at_segment(10001), text_segment(" a&[b],c")]
    assert normalise_message("[CQ:at,qq=1]", auto_escape=True) == [text_segment("[CQ:at,qq=1]")]
    assert normalise_message({"type": "text", "data": {"text": "x"}}) == [text_segment("x")]
    card = {"type": "json", "data": {"data": '{"a":[1,2]}'}}
    assert to_cq([text_segment("a,[b]&"), card]) == 'a,&#91;b&#93;&amp;[CQ:json,data={"a":&#91;1&#44;2&#93;}]'
    assert normalise_message(to_cq([text_segment("a,[b]&"), card])) == [text_segment("a,[b]&"), card]


# ------------------------------------------------------------------------------------------------ Telegram


@session_loop
async def test_telegram_group_ping_gets_pong_through_send_message(telegram: FakeTelegram, ping_bot: PingBot) -> None:
    # at start-up the adapter asks getMe, deletes the webhook, then long-polls without an offset
    assert telegram.received[:3] == [("getMe", {}), ("deleteWebhook", {}), ("getUpdates", {"timeout": 30})]

    reply = await telegram.ask_group(GROUP, 9001, "/ping hello", first_name="Alice", chat_title="一队")
    assert reply.method == "sendMessage"
    assert reply.chat_id == GROUP
    assert reply.text == "pong hello"
    message = telegram.messages[(GROUP, reply.message_id)]
    assert message["from"]["id"] == telegram.bot_id
    assert message["chat"]["title"] == "一队"

    # "/cmd@botname" as Telegram clients send it: NoneBot's on_command matches "ping" by prefix and leaves
    # "@yijing_test_bot" at the start of the argument (neither the adapter nor NoneBot strips it)
    private = await telegram.ask_private(9001, "/ping@yijing_test_bot 你好😀")
    assert private.chat_id == 9001
    assert private.text == "pong @yijing_test_bot 你好😀"

    with pytest.raises(AssertionError) as failure:
        await telegram.expect_chat(GROUP, "never said", timeout=0.2)
    assert "pong hello" in str(failure.value)


@session_loop
async def test_telegram_update_delivered_once_after_confirmation(telegram: FakeTelegram, ping_bot: PingBot) -> None:
    since = telegram.mark()
    telegram.group_message(GROUP, 9002, "/ping once", first_name="Bob")
    update_id = telegram.updates[-1]["update_id"]
    await telegram.expect_chat(GROUP, "pong once", since=since)
    await telegram.wait_delivered()
    assert update_id in telegram.confirmed
    assert update_id not in [u["update_id"] for u in telegram.updates]
    await telegram.expect_nothing(0.5)
    assert [m.text for m in telegram.sent[since:]] == ["pong once"]


@session_loop
async def test_telegram_rate_limit_is_reported_to_the_handler(telegram: FakeTelegram, ping_bot: PingBot) -> None:
    telegram.fail_next("sendMessage", 1, retry_after=3)
    since = telegram.mark()
    calls = len(telegram.calls)
    telegram.group_message(GROUP, 9003, "/ping limited")
    limited = await telegram.wait_for_call("sendMessage", since=calls)
    assert limited.status == 429
    assert limited.response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    await telegram.expect_nothing(0.3, since=since)  # the adapter does not retry
    reply = await telegram.ask_group(GROUP, 9003, "/ping again")
    assert reply.text == "pong again"


@session_loop
async def test_telegram_document_buttons_and_callback(telegram: FakeTelegram, ping_bot: PingBot) -> None:
    document = await telegram.ask_group(GROUP, 9004, "/doc")
    assert document.method == "sendDocument"
    assert [(f.filename, f.data) for f in document.files] == [("report.csv", "名字,分\n张三,3\n".encode())]

    menu = await telegram.ask_private(9004, "/buttons")
    assert menu.text == "choose"
    assert menu.buttons == [("A", "pick:a")]
    since = telegram.mark()
    query_id = telegram.callback_query(9004, 9004, menu.message_id, "pick:a")
    edited = await telegram.wait_for(lambda m: m.method == "editMessageText", since=since)
    assert edited.text == "picked pick:a"
    assert edited.message_id == menu.message_id
    assert telegram.callback_answers[-1]["callback_query_id"] == query_id


@session_loop
async def test_restart_after_kill_redelivers_and_reconnects(tmp_path: Path) -> None:
    """SIGKILL the bot: both stand-ins notice; an update queued meanwhile is handled after the restart."""
    async with FakeTelegram(token=TELEGRAM_TOKEN) as telegram:
        process, port = ping_bot_process(tmp_path, telegram)
        peer = OneBotPeer(f"ws://127.0.0.1:{port}/onebot/v11/ws", self_id="10500", access_token=ONEBOT_TOKEN)
        process.start()
        try:
            await peer.connect(timeout=30)  # retries until the bot listens
            assert (await peer.ask_group(20005, 10005, "/ping 1")).text == "pong 1"
            await telegram.wait_polling(timeout=30)

            process.kill()
            assert process.returncode == -9
            await peer.wait_closed(5)
            assert not peer.connected
            await telegram.wait_not_polling(5)
            telegram.group_message(GROUP, 9005, "/ping while down")

            process.start()
            await peer.connect(timeout=30)
            await telegram.expect_chat(GROUP, "pong while down", timeout=20)
            assert (await peer.ask_group(20005, 10005, "/ping 2")).text == "pong 2"
        except BaseException:
            print(process.log_tail(80))  # noqa: T201
            raise
        finally:
            await peer.close()
            await process.stop_async()


@session_loop
async def test_telegram_get_updates_offsets_over_http() -> None:
    """getUpdates keeps updates until an offset confirms them (straight over HTTP, no bot)."""
    from nonebot.adapters.telegram.event import CallbackQueryEvent, Event, PrivateMessageEvent
    from nonebot.adapters.telegram.model import ChatFullInfo, ChatMember, Message, Update, User
    from pydantic import TypeAdapter

    async with FakeTelegram(token="42:ABC") as fake, aiohttp.ClientSession() as http:

        async def call(method: str, **params):
            async with http.post(f"{fake.api_server}bot42:ABC/{method}", json=params) as response:
                return response.status, await response.json()

        fake.private_message(7, "/start", first_name="Eve")
        first = fake.updates[0]["update_id"]
        # unconfirmed updates come back again; numbers may arrive as strings, as the adapter sends them
        assert [u["update_id"] for u in (await call("getUpdates", timeout="0"))[1]["result"]] == [first]
        assert [u["update_id"] for u in (await call("getUpdates", offset=str(first)))[1]["result"]] == [first]
        assert (await call("getUpdates", offset=first + 1))[1]["result"] == []
        assert fake.updates == []
        assert fake.confirmed == [first]

        # everything the fake answers validates with the adapter's models
        User.model_validate((await call("getMe"))[1]["result"])
        sent = Message.model_validate((await call("sendMessage", chat_id="7", text="hi"))[1]["result"])
        assert sent.from_ is not None
        assert sent.from_.id == 42
        assert sent.chat.type == "private"
        ChatFullInfo.model_validate((await call("getChat", chat_id=7))[1]["result"])
        TypeAdapter(ChatMember).validate_python((await call("getChatMember", chat_id=7, user_id=7))[1]["result"])
        fake.callback_query(7, 7, sent.message_id, "x")
        fake.location_message(7, 7, 36.65, 117.12)
        updates = (await call("getUpdates", offset=first + 1))[1]["result"]
        events = [
            Event.parse_event(Update.model_validate(u).model_dump(by_alias=True, exclude_none=True)) for u in updates
        ]
        assert isinstance(events[0], CallbackQueryEvent)
        assert events[0].data == "x"
        assert isinstance(events[1], PrivateMessageEvent)
        assert events[1].message[0].type == "location"

        # an upload as the adapter makes it: multipart, every value a string, the file named by attach://
        form = aiohttp.FormData({"chat_id": "7", "caption": "图", "photo": "attach://upload0"}, quote_fields=False)
        form.add_field("upload0", b"\x89PNG...", filename="upload0", content_type="application/octet-stream")
        async with http.post(f"{fake.api_server}bot42:ABC/sendPhoto", data=form) as response:
            photo = Message.model_validate((await response.json())["result"])
        assert photo.caption == "图"
        assert fake.sent[-1].method == "sendPhoto"
        assert [(f.filename, f.data) for f in fake.sent[-1].files] == [("upload0", b"\x89PNG...")]


@session_loop
async def test_telegram_long_poll_conflict_and_errors() -> None:
    import asyncio

    from nonebot.adapters.telegram.event import Event, GroupMessageEvent
    from nonebot.adapters.telegram.model import Update

    async with FakeTelegram(token="42:ABC") as fake, aiohttp.ClientSession() as http:
        url = f"{fake.api_server}bot42:ABC/"

        async def call(method: str, **params):
            async with http.post(url + method, json=params) as response:
                return response.status, await response.json()

        held = asyncio.create_task(call("getUpdates", timeout=10))
        await fake.wait_polling(5)
        message_id = fake.group_message(-100777, 7, "/start@yijing_test_bot now 😀 @someone_else", first_name="Eve")
        status, body = await asyncio.wait_for(held, 2)
        assert status == 200
        assert len(body["result"]) == 1
        update = body["result"][0]
        assert list(update)[:2] == ["update_id", "message"]
        message = update["message"]
        assert message["message_id"] == message_id
        assert message["chat"]["type"] == "supergroup"
        assert message["entities"] == [
            {"offset": 0, "length": 22, "type": "bot_command"},
            {"offset": 30, "length": 13, "type": "mention"},
        ]
        event = Event.parse_event(Update.model_validate(update).model_dump(by_alias=True, exclude_none=True))
        assert isinstance(event, GroupMessageEvent)
        assert [s.type for s in event.message][:2] == ["bot_command", "text"]

        # a second poll ends the first with 409, as when two bot instances poll
        first = asyncio.create_task(call("getUpdates", offset=update["update_id"] + 1, timeout=10))
        await fake.wait_polling(5)
        second = asyncio.create_task(call("getUpdates", timeout=0))
        status, body = await asyncio.wait_for(first, 2)
        assert status == 409
        assert body["description"].startswith("Conflict: terminated by other getUpdates")
        await second

        assert await call("sendMessage", chat_id=-100777, text="") == (
            400,
            {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"},
        )
        assert (await call("sendMessage", chat_id=-1009999, text="x"))[1][
            "description"
        ] == "Bad Request: chat not found"
        fake.add_user(8, "Never Started", started=False)
        assert (await call("sendMessage", chat_id=8, text="x"))[0] == 403
        assert (await call("setMyCommands", commands=json.dumps([{"command": "签到", "description": "x"}])))[0] == 400
        assert (await call("noSuchMethod"))[1] == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found: method not found",
        }
        async with http.post(f"{fake.api_server}bot42:WRONG/getMe") as response:
            assert response.status == 401
            assert await response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        fake.fail_next("getMe", 2, retry_after=7)
        assert (await call("getMe"))[0] == 429
        assert (await call("getMe"))[0] == 429
        assert (await call("getMe"))[1]["result"]["username"] == "yijing_test_bot"


def test_entities_use_utf16_offsets() -> None:
    assert detect_entities("😀 /ping") == [{"offset": 3, "length": 5, "type": "bot_command"}]
    assert detect_entities("/签到") == []
    assert detect_entities("see https://example.org/x, /help") == [
        {"offset": 4, "length": 21, "type": "url"},
        {"offset": 27, "length": 5, "type": "bot_command"},
    ]
