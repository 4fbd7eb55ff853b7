"""A local fake of the Telegram Bot API (HTTP, long polling) for end-to-end tests.

nonebot-adapter-telegram (0.1.0b20) works against it unchanged when the bot is configured with
``api_server = fake.api_server`` ("http://127.0.0.1:PORT/", trailing slash included): the adapter calls
``POST {api_server}bot{token}/{method}`` with JSON (every non-str value JSON-encoded into a string, e.g.
``"timeout": "30"``) or, when it uploads files, multipart form data with ``photo=attach://<field>``.

What it keeps faithful to the real API (https://core.telegram.org/bots/api):
- responses ``{"ok": true, "result": ...}`` with complete objects (the adapter validates them with pydantic);
  errors ``{"ok": false, "error_code": N, "description": "..."}`` with the HTTP status N;
- getUpdates long polling: updates stay queued until a call with a higher ``offset`` confirms them; a newer
  getUpdates ends a pending one with 409 Conflict; getUpdates while a webhook is set is a 409 as well;
- message ids per chat, UTF-16 entity offsets, ``bot_command`` / ``mention`` / ``url`` entities as Telegram
  detects them; callback_data over 64 bytes, empty or over-long texts, invalid bot commands and sending to a
  user who never talked to the bot are refused as Telegram refuses them;
- method names are case-insensitive; a wrong token is 401 Unauthorized; an unknown method 404.

    async with FakeTelegram() as fake:
        ... start the bot with telegram api_server=fake.api_server ...
        await fake.wait_polling()
        reply = await fake.ask_group(-1001234, 9001, "/ping")
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import html
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from typing_extensions import Self

__all__ = ["ApiCall", "FakeTelegram", "SentFile", "SentMessage", "utf16_len"]

UPDATE_TYPES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
)
JSON_PARAMS = {
    "reply_markup",
    "entities",
    "caption_entities",
    "reply_parameters",
    "link_preview_options",
    "commands",
    "scope",
    "allowed_updates",
    "media",
    "permissions",
}
INT_PARAMS = {
    "chat_id",
    "from_chat_id",
    "message_id",
    "user_id",
    "offset",
    "limit",
    "timeout",
    "message_thread_id",
    "reply_to_message_id",
    "cache_time",
    "until_date",
}
BOOL_PARAMS = {
    "disable_notification",
    "protect_content",
    "allow_sending_without_reply",
    "show_alert",
    "drop_pending_updates",
    "disable_web_page_preview",
    "has_spoiler",
    "disable_content_type_detection",
    "only_if_banned",
}
COMMAND = re.compile(r"(?<![^\s])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
MENTION = re.compile(r"(?<![A-Za-z0-9_])@[A-Za-z][A-Za-z0-9_]{4,31}(?![A-Za-z0-9_])")
URL = re.compile(r"https?://[^\s<>\"]+")
VALID_BOT_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
MAX_TEXT = 4096
MAX_CAPTION = 1024


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets and lengths."""
    return len(text.encode("utf-16-le")) // 2


def detect_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram's servers attach to a plain text: bot commands, @mentions and URLs."""
    found: list[tuple[int, int, str]] = []
    for pattern, kind in ((COMMAND, "bot_command"), (MENTION, "mention"), (URL, "url")):
        for match in pattern.finditer(text):
            start, end = match.span()
            if kind == "url":
                end = start + len(match.group().rstrip(".,;:!?)'"))
            if any(start < other_end and other_start < end for other_start, other_end, _ in found):
                continue
            found.append((start, end, kind))
    found.sort()
    return [
        {"offset": utf16_len(text[:start]), "length": utf16_len(text[start:end]), "type": kind}
        for start, end, kind in found
    ]


@dataclass
class SentFile:
    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class SentMessage:
    """One message the bot sent or edited (sendMessage, sendPhoto, sendDocument, editMessageText, ...)."""

    method: str
    chat_id: int | str | None
    text: str  # the text, or the caption of a photo/document
    reply_markup: dict[str, Any] | None
    raw: dict[str, Any]  # the params as received (numbers and objects decoded)
    files: list[SentFile] = field(default_factory=list)
    message_id: int | None = None
    entities: list[dict[str, Any]] | None = None
    time: float = field(default_factory=time.time)

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        """Inline keyboard buttons as (text, callback_data or url)."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [(b.get("text", ""), b.get("callback_data", b.get("url"))) for row in rows for b in row]

    def describe(self) -> str:
        extra = ""
        if self.files:
            extra += f" files={[f.filename for f in self.files]}"
        if self.buttons:
            extra += f" buttons={self.buttons}"
        return f"{self.method} -> {self.chat_id}: {self.text!r}{extra}"


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    status: int
    response: dict[str, Any]
    files: list[SentFile] = field(default_factory=list)
    time: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))


class TelegramError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad(description: str) -> TelegramError:
    return TelegramError(400, f"Bad Request: {description}")


class FakeTelegram:
    """The Telegram Bot API server side, in-process (aiohttp.web), for one bot."""

    def __init__(
        self,
        token: str = "123456:TEST",
        bot_id: int | None = None,
        username: str = "yijing_test_bot",
        *,
        first_name: str = "义警助手",
        can_read_all_group_messages: bool = True,
        long_poll_cap: float = 25.0,
    ) -> None:
        """``long_poll_cap``: the longest a getUpdates is held. nonebot's aiohttp client reads with a 30 s
        timeout while the adapter asks for timeout=30, so holding the full 30 s would race the client."""
        self.token = token
        self.bot_id = int(token.split(":", 1)[0]) if bot_id is None else bot_id
        self.username = username
        self.first_name = first_name
        self.can_read_all_group_messages = can_read_all_group_messages
        self.long_poll_cap = long_poll_cap

        self.port: int | None = None
        self.api_server: str | None = None

        self.updates: list[dict[str, Any]] = []  # queued, not yet confirmed
        self.delivered: list[dict[str, Any]] = []  # every update handed out by getUpdates (repeats included)
        self.confirmed: list[int] = []  # update ids confirmed by an offset
        self.calls: list[ApiCall] = []  # finished calls, with the answer given
        self.received: list[tuple[str, dict[str, Any]]] = []  # (method, params) as calls arrive (held polls too)
        self.sent: list[SentMessage] = []
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.callback_answers: list[dict[str, Any]] = []
        self.deleted: list[tuple[int | str, int]] = []
        self.webhook: dict[str, Any] | None = None

        self.users: dict[int, dict[str, Any]] = {}
        self.chats: dict[int, dict[str, Any]] = {}
        self.members: dict[tuple[int, int], str] = {}  # (chat_id, user_id) -> status
        self.started: set[int] = set()  # users who have a private chat with the bot
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}  # (chat_id, message_id) -> Message
        self.callback_queries: dict[str, dict[str, Any]] = {}

        self._update_ids = itertools.count(100_001)
        self._message_ids: dict[int, itertools.count] = {}
        self._file_ids = itertools.count(1)
        self._failures: dict[str, list[tuple[int, str, dict[str, Any] | None]]] = {}
        self._handlers: dict[str, Callable[[dict[str, Any]], Any]] = {}
        self._changed = asyncio.Event()
        self._poll_generation = 0
        self.polling = 0  # getUpdates calls being held right now
        self._runner: web.AppRunner | None = None

    # ---------------------------------------------------------------- server

    @property
    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.first_name, "username": self.username}

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeTelegram:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._handle)
        # handler_cancellation: a getUpdates held for a client that went away (a killed bot) ends at once
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=1.0, handler_cancellation=True
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None
        assert server.sockets
        self.port = server.sockets[0].getsockname()[1]
        self.api_server = f"http://{host}:{self.port}/"
        return self

    async def stop(self) -> None:
        self._poll_generation += 1  # release held getUpdates
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        if self._runner is None:
            await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _handle(self, request: web.Request) -> web.Response:
        match = re.fullmatch(r"/bot([^/]+)/([A-Za-z0-9_]+)/?", request.path)
        if match is None:
            return _json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        token, method = match.groups()
        files: list[SentFile] = []
        params: dict[str, Any] = {}
        try:
            if token != self.token:
                raise TelegramError(401, "Unauthorized")
            params, files = await _read_params(request)
            self.received.append((method, params))
            status, body = 200, {"ok": True, "result": await self._dispatch(method, params, files)}
        except TelegramError as error:
            status, body = error.status, error.body()
        self.calls.append(ApiCall(method, params, status, body, files))
        self._notify()
        return _json(status, body)

    async def _dispatch(self, method: str, params: dict[str, Any], files: list[SentFile]) -> Any:
        key = method.lower()
        pending = self._failures.get(key)
        if pending:
            status, description, parameters = pending.pop(0)
            raise TelegramError(status, description, parameters)
        handler = self._handlers.get(key)
        if handler is not None:
            return handler(params)
        implementation = _METHODS.get(key)
        if implementation is None:
            raise TelegramError(404, "Not Found: method not found")
        result = implementation(self, params, files)
        if asyncio.iscoroutine(result):
            result = await result
        return result

    # ---------------------------------------------------------------- test controls

    def fail_next(self, method: str, n: int = 1, *, retry_after: int = 1) -> None:
        """The next ``n`` calls of ``method`` answer HTTP 429 Too Many Requests with ``retry_after``."""
        description = f"Too Many Requests: retry after {retry_after}"
        failure = (429, description, {"retry_after": retry_after})
        self._failures.setdefault(method.lower(), []).extend([failure] * n)

    def fail_next_with(self, method: str, status: int, description: str, n: int = 1) -> None:
        """The next ``n`` calls of ``method`` fail with any status, e.g. (403, "Forbidden: bot was blocked by the
        user") or (400, "Bad Request: chat not found")."""
        self._failures.setdefault(method.lower(), []).extend([(status, description, None)] * n)

    def set_handler(self, method: str, handler: Callable[[dict[str, Any]], Any]) -> None:
        """Answer ``method`` with ``handler(params)`` as ``result`` (may raise TelegramError)."""
        self._handlers[method.lower()] = handler

    def add_user(
        self,
        user_id: int,
        first_name: str,
        username: str | None = None,
        *,
        last_name: str | None = None,
        started: bool = True,
        language_code: str | None = "zh-hans",
    ) -> dict[str, Any]:
        """Make a user known; ``started``: they have a private chat with the bot (so it may message them)."""
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self.users[user_id] = user
        if started:
            self._private_chat(user)
        return user

    def add_chat(self, chat_id: int, title: str, type_: str = "supergroup") -> dict[str, Any]:
        chat = self.chats.setdefault(chat_id, {"id": chat_id, "title": title, "type": type_})
        chat["title"] = title
        self.members.setdefault((chat_id, self.bot_id), "member")
        return chat

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """creator, administrator, member, restricted, left or kicked."""
        self.members[(chat_id, user_id)] = status

    def _user(self, user_id: int, first_name: str | None, username: str | None) -> dict[str, Any]:
        user = self.users.get(user_id)
        if user is None:
            return self.add_user(user_id, first_name or f"User{user_id}", username, started=False)
        if first_name:
            user["first_name"] = first_name
        if username:
            user["username"] = username
        return user

    def _private_chat(self, user: dict[str, Any]) -> dict[str, Any]:
        self.started.add(user["id"])
        chat = {"id": user["id"], "first_name": user["first_name"], "type": "private"}
        if user.get("last_name"):
            chat["last_name"] = user["last_name"]
        if user.get("username"):
            chat["username"] = user["username"]
        self.chats[user["id"]] = chat
        return chat

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    # ---------------------------------------------------------------- playing updates

    def queue_update(self, kind: str, payload: dict[str, Any]) -> int:
        """Queue any update (``kind`` e.g. "message", "edited_message", "my_chat_member"); returns its update_id."""
        update_id = next(self._update_ids)
        self.updates.append({"update_id": update_id, kind: payload})  # the adapter reads the kind as the 2nd key
        self._notify()
        return update_id

    def _incoming(
        self,
        chat: dict[str, Any],
        user: dict[str, Any],
        content: dict[str, Any],
        reply_to_message_id: int | None = None,
    ) -> int:
        chat_id = chat["id"]
        message_id = self._next_message_id(chat_id)
        message: dict[str, Any] = {"message_id": message_id, "from": user, "chat": dict(chat), "date": int(time.time())}
        if reply_to_message_id is not None:
            replied = self.messages.get((chat_id, reply_to_message_id))
            if replied is None:
                raise ValueError(f"no message {reply_to_message_id} in chat {chat_id} to reply to")
            message["reply_to_message"] = _without_reply(replied)
        message.update(content)
        self.messages[(chat_id, message_id)] = message
        self.queue_update("message", message)
        return message_id

    def _text_content(self, text: str, entities: list[dict[str, Any]] | None) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        entities = detect_entities(text) if entities is None else entities
        if entities:
            content["entities"] = entities
        return content

    def group_message(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        first_name: str | None = None,
        username: str | None = None,
        chat_title: str | None = None,
        reply_to_message_id: int | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> int:
        """Queue a supergroup message (``chat_id`` negative, e.g. -1001234); returns its message_id.

        Entities are detected as Telegram does (``/cmd`` or ``/cmd@bot`` -> bot_command, ``@name`` -> mention,
        URLs) unless given explicitly.
        """
        user = self._user(user_id, first_name, username)
        chat = self.add_chat(chat_id, chat_title or self.chats.get(chat_id, {}).get("title") or f"Group {chat_id}")
        self.members.setdefault((chat_id, user_id), "member")
        return self._incoming(chat, user, self._text_content(text, entities), reply_to_message_id)

    def private_message(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str | None = None,
        username: str | None = None,
        reply_to_message_id: int | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> int:
        """Queue a private message from ``user_id`` (its chat id is the user id); returns its message_id."""
        user = self._user(user_id, first_name, username)
        chat = self._private_chat(user)
        return self._incoming(chat, user, self._text_content(text, entities), reply_to_message_id)

    def location_message(
        self,
        chat_id: int,
        user_id: int,
        latitude: float,
        longitude: float,
        *,
        first_name: str | None = None,
        username: str | None = None,
        chat_title: str | None = None,
        horizontal_accuracy: float | None = None,
        live_period: int | None = None,
    ) -> int:
        """Queue a shared location (in a group when ``chat_id`` < 0, else in the user's private chat)."""
        user = self._user(user_id, first_name, username)
        if chat_id < 0:
            chat = self.add_chat(chat_id, chat_title or self.chats.get(chat_id, {}).get("title") or f"Group {chat_id}")
            self.members.setdefault((chat_id, user_id), "member")
        else:
            chat = self._private_chat(user)
        location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        if horizontal_accuracy is not None:
            location["horizontal_accuracy"] = horizontal_accuracy
        if live_period is not None:
            location["live_period"] = live_period
        return self._incoming(chat, user, {"location": location})

    def callback_query(
        self, user_id: int, chat_id: int, message_id: int, data: str, *, first_name: str | None = None
    ) -> str:
        """Queue a press of an inline button under message ``message_id`` in ``chat_id``; returns the query id."""
        user = self._user(user_id, first_name, None)
        message = self.messages.get((chat_id, message_id))
        if message is None:  # an InaccessibleMessage: date 0
            chat = self.chats.get(chat_id) or {"id": chat_id, "type": "supergroup" if chat_id < 0 else "private"}
            message = {"chat": chat, "message_id": message_id, "date": 0}
        query_id = str(next(self._update_ids) * 1_000_003)
        query = {
            "id": query_id,
            "from": user,
            "message": message,
            "chat_instance": str(int(hashlib.sha1(str(chat_id).encode()).hexdigest()[:15], 16)),
            "data": data,
        }
        self.callback_queries[query_id] = query
        self.queue_update("callback_query", query)
        return query_id

    # ---------------------------------------------------------------- observing

    def mark(self) -> int:
        """The index to pass as ``since=`` to consider only what is sent from now on."""
        return len(self.sent)

    async def _wait(self, check: Callable[[], Any], timeout: float) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = check()
            if result is not None:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            changed = self._changed
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    async def wait_for(
        self,
        predicate: Callable[[SentMessage], bool],
        timeout: float = 10.0,
        *,
        since: int = 0,
        description: str = "a matching message",
    ) -> SentMessage:
        """The first recorded SentMessage at index >= ``since`` matching ``predicate``, waiting up to ``timeout``."""

        def check() -> SentMessage | None:
            return next((m for m in self.sent[since:] if predicate(m)), None)

        found = await self._wait(check, timeout)
        if found is None:
            raise AssertionError(self._report(f"no {description} within {timeout}s", since))
        return found

    def _report(self, headline: str, since: int) -> str:
        lines = [f"{headline} (looking from index {since}); the bot sent {len(self.sent)} message(s):"]
        shown = list(enumerate(self.sent))[-40:]
        if len(self.sent) > len(shown):
            lines.append(f"  ... {len(self.sent) - len(shown)} earlier message(s) not shown")
        lines += [f"  #{i} {m.describe()}" for i, m in shown] or ["  (nothing)"]
        failed = [c for c in self.calls if not c.ok and c.method.lower() != "getupdates"]
        if failed:
            lines.append("failed calls: " + ", ".join(f"{c.method}: {c.response.get('description')}" for c in failed))
        lines.append(f"updates still queued: {[u['update_id'] for u in self.updates]}; getUpdates held: {self.polling}")
        return "\n".join(lines)

    async def expect_chat(
        self, chat_id: int, contains: str = "", timeout: float = 10.0, *, since: int = 0
    ) -> SentMessage:
        """The first message sent to ``chat_id`` whose text contains ``contains``; AssertionError if none."""
        return await self.wait_for(
            lambda m: m.chat_id == chat_id and m.method.startswith("send") and contains in m.text,
            timeout,
            since=since,
            description=f"message to chat {chat_id} containing {contains!r}",
        )

    async def expect_nothing(self, timeout: float = 1.0, *, since: int | None = None) -> None:
        """Assert the bot sends nothing (from ``since``, default: now) for ``timeout`` seconds."""
        start = self.mark() if since is None else since
        try:
            message = await self.wait_for(lambda m: True, timeout, since=start)
        except AssertionError:
            return
        raise AssertionError(f"expected silence, but the bot sent: {message.describe()}")

    async def ask_group(
        self, chat_id: int, user_id: int, text: str, timeout: float = 10.0, **kwargs: Any
    ) -> SentMessage:
        """Queue a group message and return the next message the bot sends to that chat."""
        since = self.mark()
        self.group_message(chat_id, user_id, text, **kwargs)
        return await self.wait_for(
            lambda m: m.chat_id == chat_id and m.method.startswith("send"),
            timeout,
            since=since,
            description=f"reply in chat {chat_id} to {text!r}",
        )

    async def ask_private(self, user_id: int, text: str, timeout: float = 10.0, **kwargs: Any) -> SentMessage:
        """Queue a private message and return the next message the bot sends to that user."""
        since = self.mark()
        self.private_message(user_id, text, **kwargs)
        return await self.wait_for(
            lambda m: m.chat_id == user_id and m.method.startswith("send"),
            timeout,
            since=since,
            description=f"private reply to {user_id} for {text!r}",
        )

    async def wait_for_call(self, method: str, timeout: float = 10.0, *, since: int = 0) -> ApiCall:
        """The first API call of ``method`` (case-insensitive) at index >= ``since`` in ``calls``."""
        key = method.lower()
        found = await self._wait(
            lambda: next((c for c in self.calls[since:] if c.method.lower() == key), None), timeout
        )
        if found is None:
            called = sorted({c.method for c in self.calls})
            raise AssertionError(f"the bot did not call {method} within {timeout}s; it called: {called}")
        return found

    async def wait_polling(self, timeout: float = 20.0) -> None:
        """Wait until the bot holds a getUpdates long poll (it has started and is ready for updates)."""
        if await self._wait(lambda: True if self.polling else None, timeout) is None:
            called = [c.method for c in self.calls]
            raise AssertionError(f"the bot is not polling getUpdates after {timeout}s; calls so far: {called}")

    async def wait_not_polling(self, timeout: float = 10.0) -> None:
        """Wait until no getUpdates is held (e.g. after the bot process was stopped or killed)."""
        if await self._wait(lambda: True if not self.polling else None, timeout) is None:
            raise AssertionError(f"{self.polling} getUpdates still held after {timeout}s")

    async def wait_delivered(self, timeout: float = 10.0) -> None:
        """Wait until every queued update has been confirmed by the bot (handed out and acknowledged by offset)."""
        if await self._wait(lambda: True if not self.updates else None, timeout) is None:
            raise AssertionError(f"updates not confirmed after {timeout}s: {[u['update_id'] for u in self.updates]}")

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    # ---------------------------------------------------------------- API methods

    async def _get_updates(self, params: dict[str, Any], files: list[SentFile]) -> Any:
        if self.webhook is not None:
            raise TelegramError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
                "the webhook first",
            )
        offset = params.get("offset")
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(0.0, min(float(params.get("timeout") or 0), self.long_poll_cap))
        allowed = params.get("allowed_updates") or None
        if offset is not None:
            offset = int(offset)
            if offset >= 0:
                self._confirm(lambda update: update["update_id"] < offset)
            else:  # a negative offset keeps only the last -offset updates
                keep = {u["update_id"] for u in self.updates[offset:]}
                self._confirm(lambda update: update["update_id"] not in keep)

        def ready() -> list[dict[str, Any]] | None:
            pending = [u for u in self.updates if not allowed or _kind(u) in allowed]
            return pending[:limit] or None

        self._poll_generation += 1
        generation = self._poll_generation
        result = ready()
        if result is None and timeout > 0:
            self.polling += 1
            self._notify()
            try:
                result = await self._wait(lambda: ready() if self._poll_generation == generation else [], timeout)
            finally:
                self.polling -= 1
                self._notify()
            if self._poll_generation != generation and not result:
                raise TelegramError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
        result = result or []
        self.delivered.extend(result)
        return result

    def _confirm(self, confirmed: Callable[[dict[str, Any]], bool]) -> None:
        keep = []
        for update in self.updates:
            if confirmed(update):
                self.confirmed.append(update["update_id"])
            else:
                keep.append(update)
        if len(keep) != len(self.updates):
            self.updates = keep
            self._notify()

    def _get_me(self, params: dict[str, Any], files: list[SentFile]) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": self.can_read_all_group_messages,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _delete_webhook(self, params: dict[str, Any], files: list[SentFile]) -> Any:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._confirm(lambda update: True)
        return True

    def _set_webhook(self, params: dict[str, Any], files: list[SentFile]) -> Any:
        if not params.get("url"):
            return self._delete_webhook(params, files)
        self.webhook = dict(params)
        self._poll_generation += 1
        return True

    def _get_webhook_info(self, params: dict[str, Any], files: list[SentFile]) -> Any:
        info: dict[str, Any] = {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }
        return info

    def _commands_key(self, params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _set_my_commands(self, params: dict[str, Any], files: list[SentFile]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad('parameter "commands" is required')
        if len(commands) > 100:
            raise _bad("too many commands")
        for command in commands:
            if not isinstance(command, dict) or not VALID_BOT_COMMAND.match(str(command.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _get_my_commands(self, params: dict[str, Any], files: list[SentFile]) -> Any:
        return self.commands.get(self._commands_key(params), [])

    def _delete_my_commands(self, params: dict[str, Any], files: list[SentFile]) -> Any:
        self.commands.pop(self._commands_key(params), None)
        return True

    def _chat(self, params: dict[str, Any], key: str = "chat_id") -> dict[str, Any]:
        chat_id = params.get(key)
        if chat_id is None or chat_id == "":
            raise _bad(f"{key} is empty")
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            if isinstance(chat_id, int) and chat_id > 0 and chat_id in self.users:
                raise TelegramError(403, "Forbidden: bot can't initiate conversation with a user")
            raise _bad("chat not found")
        if chat["type"] != "private" and self.members.get((chat["id"], self.bot_id)) in ("left", "kicked"):
            raise TelegramError(403, "Forbidden: bot is not a member of the supergroup chat")
        return chat

    def _validate_markup(self, markup: Any) -> None:
        if markup is None:
            return
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard") or []:
            for button in row:
                if not button.get("text"):
                    raise _bad("BUTTON_TEXT_EMPTY" if "text" in button else "can't parse inline keyboard button")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                    raise _bad("BUTTON_DATA_INVALID")

    def _reply_to(self, chat: dict[str, Any], params: dict[str, Any]) -> dict[str, Any] | None:
        reply = params.get("reply_parameters") or {}
        message_id = reply.get("message_id") if isinstance(reply, dict) else None
        if message_id is None:
            message_id = params.get("reply_to_message_id")
        if message_id is None:
            return None
        replied = self.messages.get((chat["id"], int(message_id)))
        allow = reply.get("allow_sending_without_reply") if isinstance(reply, dict) else None
        if replied is None and not (allow or params.get("allow_sending_without_reply")):
            raise _bad("message to be replied not found")
        return _without_reply(replied) if replied else None

    def _outgoing(
        self,
        method: str,
        params: dict[str, Any],
        files: list[SentFile],
        content: dict[str, Any],
        text: str,
    ) -> dict[str, Any]:
        chat = self._chat(params)
        self._validate_markup(params.get("reply_markup"))
        replied = self._reply_to(chat, params)
        message_id = self._next_message_id(chat["id"])
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": self.bot_user,
            "chat": dict(chat),
            "date": int(time.time()),
        }
        if params.get("message_thread_id") is not None:
            message["message_thread_id"] = params["message_thread_id"]
        if replied is not None:
            message["reply_to_message"] = replied
        message.update(content)
        if params.get("reply_markup") and "inline_keyboard" in params["reply_markup"]:
            message["reply_markup"] = params["reply_markup"]
        self.messages[(chat["id"], message_id)] = message
        self.sent.append(
            SentMessage(
                method=method,
                chat_id=chat["id"],
                text=text,
                reply_markup=params.get("reply_markup"),
                raw=params,
                files=list(files),
                message_id=message_id,
                entities=content.get("entities") or content.get("caption_entities"),
            )
        )
        return message

    def _send_message(self, params: dict[str, Any], files: list[SentFile]) -> Any:
        text = params.get("text")
        text, entities = _render(str(text or ""), params.get("parse_mode"), params.get("entities"))
        if not text.strip():
            raise _bad("message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise _bad("message is too long")
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        if params.get("link_preview_options"):
            content["link_preview_options"] = params["link_preview_options"]
        return self._outgoing("sendMessage", params, files, content, text)

    def _caption(self, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        caption, entities = _render(
            str(params.get("caption") or ""), params.get("parse_mode"), params.get("caption_entities")
        )
        if utf16_len(caption) > MAX_CAPTION:
            raise _bad("message caption is too long")
        content: dict[str, Any] = {}
        if caption:
            content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
        return caption, content

    def _input_file(self, params: dict[str, Any], files: list[SentFile], key: str) -> tuple[SentFile | None, str]:
        value = params.get(key)
        if value is None or value == "":
            raise _bad(f"there is no {key} in the request")
        if isinstance(value, str) and value.startswith("attach://"):
            name = value[len("attach://") :]
            attached = next((f for f in files if f.field == name), None)
            if attached is None:
                raise _bad(f'wrong remote file identifier specified: can\'t find attached file "{name}"')
            return attached, attached.filename
        direct = next((f for f in files if f.field == key), None)  # uploaded directly as the field itself
        if direct is not None:
            return direct, direct.filename
        return None, str(value).rsplit("/", 1)[-1]

    def _file_id(self) -> tuple[str, str]:
        number = next(self._file_ids)
        return f"AgACAgUAAxkDAAI{number:08d}", f"AQAD{number:08d}"

    def _send_photo(self, params: dict[str, Any], files: list[SentFile]) -> Any:
        uploaded, _ = self._input_file(params, files, "photo")
        caption, content = self._caption(params)
        file_id, unique_id = self._file_id()
        size = len(uploaded.data) if uploaded else 0
        content["photo"] = [
            {
                "file_id": f"{file_id}s",
                "file_unique_id": f"{unique_id}s",
                "file_size": size // 10,
                "width": 90,
                "height": 90,
            },
            {"file_id": file_id, "file_unique_id": unique_id, "file_size": size, "width": 800, "height": 800},
        ]
        return self._outgoing("sendPhoto", params, files, content, caption)

    def _send_document(self, params: dict[str, Any], files: list[SentFile]) -> Any:
        uploaded, filename = self._input_file(params, files, "document")
        caption, content = self._caption(params)
        file_id, unique_id = self._file_id()
        document: dict[str, Any] = {"file_id": file_id, "file_unique_id": unique_id, "file_name": filename}
        if uploaded is not None:
            document["mime_type"] = _mime_type(uploaded)
            document["file_size"] = len(uploaded.data)
        content["document"] = document
        return self._outgoing("sendDocument", params, files, content, caption)

    def _send_location(self, params: dict[str, Any], files: list[SentFile]) -> Any:
        try:
            location = {"latitude": float(params["latitude"]), "longitude": float(params["longitude"])}
        except (KeyError, TypeError, ValueError):
            raise _bad("wrong latitude or longitude specified") from None
        return self._outgoing("sendLocation", params, files, {"location": location}, "")

    def _edited_message(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("inline_message_id"):
            raise _bad("inline messages are not supported by this fake")
        chat = self._chat(params)
        message = self.messages.get((chat["id"], int(params.get("message_id") or 0)))
        if message is None:
            raise _bad("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise _bad("message can't be edited")
        return message

    def _edit_message_text(self, params: dict[str, Any], files: list[SentFile]) -> Any:
        message = self._edited_message(params)
        text, entities = _render(str(params.get("text") or ""), params.get("parse_mode"), params.get("entities"))
        if not text.strip():
            raise _bad("message text is empty")
        if "text" not in message:
            raise _bad("there is no text in the message to edit")
        markup = params.get("reply_markup")
        self._validate_markup(markup)
        if (
            text == message.get("text")
            and (entities or None) == message.get("entities")
            and markup == message.get("reply_markup")
        ):
            raise _bad(
                "message is not modified: specified new message content and reply markup are exactly the same as a "
                "current content and reply markup of the message"
            )
        return self._apply_edit("editMessageText", params, message, {"text": text, "entities": entities}, text)

    def _edit_message_reply_markup(self, params: dict[str, Any], files: list[SentFile]) -> Any:
        message = self._edited_message(params)
        markup = params.get("reply_markup")
        self._validate_markup(markup)
        if markup == message.get("reply_markup"):
            raise _bad(
                "message is not modified: specified new message content and reply markup are exactly the "
                "same as a current content and reply markup of the message"
            )
        text = message.get("text") or message.get("caption") or ""
        return self._apply_edit("editMessageReplyMarkup", params, message, {}, text)

    def _apply_edit(
        self, method: str, params: dict[str, Any], message: dict[str, Any], changes: dict[str, Any], text: str
    ) -> Any:
        for key, value in changes.items():
            if value:
                message[key] = value
            else:
                message.pop(key, None)
        markup = params.get("reply_markup")
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = int(time.time())
        self.sent.append(
            SentMessage(
                method=method,
                chat_id=message["chat"]["id"],
                text=text,
                reply_markup=markup,
                raw=params,
                message_id=message["message_id"],
                entities=message.get("entities"),
            )
        )
        return message

    def _delete_message(self, params: dict[str, Any], files: list[SentFile]) -> Any:
        chat = self._chat(params)
        key = (chat["id"], int(params.get("message_id") or 0))
        if key not in self.messages:
            raise _bad("message to delete not found")
        del self.messages[key]
        self.deleted.append(key)
        return True

    def _answer_callback_query(self, params: dict[str, Any], files: list[SentFile]) -> Any:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self.callback_queries:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        self.callback_answers.append(dict(params))
        return True

    def _get_chat(self, params: dict[str, Any], files: list[SentFile]) -> Any:
        chat = self._chat(params)
        full = {**chat, "accent_color_id": 0, "max_reaction_count": 11}
        if chat["type"] != "private":
            full["permissions"] = {"can_send_messages": True, "can_invite_users": True}
        return full

    def _member(self, chat_id: int, user_id: int) -> dict[str, Any]:
        user = self.bot_user if user_id == self.bot_id else self.users.get(user_id)
        if user is None:
            raise _bad("user not found")
        status = self.members.get((chat_id, user_id), "member" if chat_id == user_id else "left")
        return _member_object(status, user)

    def _get_chat_member(self, params: dict[str, Any], files: list[SentFile]) -> Any:
        chat = self._chat(params)
        user_id = params.get("user_id")
        if not isinstance(user_id, int):
            raise _bad("invalid user_id specified")
        return self._member(chat["id"], user_id)

    def _get_chat_administrators(self, params: dict[str, Any], files: list[SentFile]) -> Any:
        chat = self._chat(params)
        if chat["type"] == "private":
            raise _bad("there are no administrators in the private chat")
        return [
            self._member(chat["id"], user_id)
            for (chat_id, user_id), status in self.members.items()
            if chat_id == chat["id"] and status in ("creator", "administrator")
        ]

    def _get_chat_member_count(self, params: dict[str, Any], files: list[SentFile]) -> Any:
        chat = self._chat(params)
        if chat["type"] == "private":
            return 2
        return sum(
            1
            for (chat_id, _), status in self.members.items()
            if chat_id == chat["id"] and status not in ("left", "kicked")
        )

    def _log_out(self, params: dict[str, Any], files: list[SentFile]) -> Any:
        return True

    def _get_user_profile_photos(self, params: dict[str, Any], files: list[SentFile]) -> Any:
        """Nobody here has a profile photo (uninfo asks for it with every command it sees)."""
        if not isinstance(params.get("user_id"), int):
            raise _bad("invalid user_id specified")
        return {"total_count": 0, "photos": []}


_METHODS: dict[str, Callable[..., Any]] = {
    "getupdates": FakeTelegram._get_updates,
    "getme": FakeTelegram._get_me,
    "deletewebhook": FakeTelegram._delete_webhook,
    "setwebhook": FakeTelegram._set_webhook,
    "getwebhookinfo": FakeTelegram._get_webhook_info,
    "setmycommands": FakeTelegram._set_my_commands,
    "getmycommands": FakeTelegram._get_my_commands,
    "deletemycommands": FakeTelegram._delete_my_commands,
    "sendmessage": FakeTelegram._send_message,
    "sendphoto": FakeTelegram._send_photo,
    "senddocument": FakeTelegram._send_document,
    "sendlocation": FakeTelegram._send_location,
    "editmessagetext": FakeTelegram._edit_message_text,
    "editmessagereplymarkup": FakeTelegram._edit_message_reply_markup,
    "deletemessage": FakeTelegram._delete_message,
    "answercallbackquery": FakeTelegram._answer_callback_query,
    "getchat": FakeTelegram._get_chat,
    "getchatmember": FakeTelegram._get_chat_member,
    "getchatadministrators": FakeTelegram._get_chat_administrators,
    "getchatmembercount": FakeTelegram._get_chat_member_count,
    "logout": FakeTelegram._log_out,
    "getuserprofilephotos": FakeTelegram._get_user_profile_photos,
}


def _json(status: int, body: dict[str, Any]) -> web.Response:
    return web.Response(
        status=status, text=json.dumps(body, ensure_ascii=False), content_type="application/json", charset="utf-8"
    )


def _kind(update: dict[str, Any]) -> str:
    return next(key for key in update if key != "update_id")


def _without_reply(message: dict[str, Any]) -> dict[str, Any]:
    """A replied-to message as embedded in another: Telegram leaves out its own reply_to_message."""
    return {k: v for k, v in message.items() if k != "reply_to_message"}


def _member_object(status: str, user: dict[str, Any]) -> dict[str, Any]:
    if status == "creator":
        return {"status": "creator", "user": user, "is_anonymous": False}
    if status == "administrator":
        rights = dict.fromkeys(
            (
                "can_manage_chat",
                "can_delete_messages",
                "can_manage_video_chats",
                "can_restrict_members",
                "can_change_info",
                "can_invite_users",
                "can_post_stories",
                "can_edit_stories",
                "can_delete_stories",
                "can_pin_messages",
                "can_manage_topics",
            ),
            True,
        )
        return {
            "status": "administrator",
            "user": user,
            "can_be_edited": False,
            "is_anonymous": False,
            "can_promote_members": False,
            **rights,
        }
    if status == "restricted":
        rights = dict.fromkeys(
            (
                "can_send_messages",
                "can_send_audios",
                "can_send_documents",
                "can_send_photos",
                "can_send_videos",
                "can_send_video_notes",
                "can_send_voice_notes",
                "can_send_polls",
                "can_send_other_messages",
                "can_add_web_page_previews",
                "can_change_info",
                "can_invite_users",
                "can_pin_messages",
                "can_manage_topics",
            ),
            False,
        )
        return {"status": "restricted", "user": user, "is_member": True, "until_date": 0, **rights}
    if status == "kicked":
        return {"status": "kicked", "user": user, "until_date": 0}
    if status == "left":
        return {"status": "left", "user": user}
    return {"status": "member", "user": user}


_TAG = re.compile(r"<[^>]+>")


def _render(text: str, parse_mode: Any, entities: Any) -> tuple[str, list[dict[str, Any]] | None]:
    """The text as Telegram stores it: HTML markup removed (formatting entities are not reproduced)."""
    if parse_mode == "HTML":
        return html.unescape(_TAG.sub("", text)), None
    return text, entities if isinstance(entities, list) and entities else None


def _mime_type(file: SentFile) -> str:
    if file.content_type and file.content_type != "application/octet-stream":
        return file.content_type
    guesses = {
        ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ".csv": "text/csv",
        ".txt": "text/plain",
        ".pdf": "application/pdf",
        ".png": "image/png",
        ".jpg": "image/jpeg",
    }
    for suffix, mime in guesses.items():
        if file.filename.lower().endswith(suffix):
            return mime
    return "application/octet-stream"


def _coerce(key: str, value: Any) -> Any:
    if isinstance(value, str):
        if key in JSON_PARAMS:
            try:
                return json.loads(value)
            except ValueError:
                raise _bad(f"can't parse {key} JSON object") from None
        if key in INT_PARAMS:
            try:
                return int(value)
            except ValueError:
                return value  # e.g. "@channelusername"
        if key in BOOL_PARAMS:
            return value.lower() in ("true", "1")
    return value


async def _read_params(request: web.Request) -> tuple[dict[str, Any], list[SentFile]]:
    params: dict[str, Any] = dict(request.query)
    files: list[SentFile] = []
    content_type = request.content_type
    if request.method == "POST" and request.can_read_body:
        if content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _bad("can't parse JSON encoded request body") from None
            if isinstance(body, dict):
                params.update(body)
        elif content_type == "multipart/form-data":
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if part.filename is not None:
                    data = await part.read(decode=False)
                    files.append(
                        SentFile(
                            field=part.name or "",
                            filename=part.filename,
                            content_type=part.headers.get("Content-Type", "application/octet-stream"),
                            data=bytes(data),
                        )
                    )
                else:
                    params[part.name or ""] = await part.text()
        elif content_type == "application/x-www-form-urlencoded":
            params.update(dict(await request.post()))
    return {key: _coerce(key, value) for key, value in params.items()}, files
