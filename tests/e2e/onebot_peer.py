"""A stand-in OneBot v11 implementation (the side NapCat or Lagrange plays) for end-to-end tests.

It connects to the bot's reverse WebSocket the way NapCat does (``X-Self-ID``, ``X-Client-Role: Universal``,
``Authorization: Bearer <token>``), reports a ``meta_event`` lifecycle ``connect``, plays message events in the
array form NapCat uses, answers every API call the bot makes and records what the bot sends.

Spec: botuniverse/onebot-11 (communication/ws-reverse.md, event/message.md, event/meta.md, api/public.md,
message/string.md for CQ codes and their escaping).

    async with OneBotPeer(f"ws://127.0.0.1:{port}/onebot/v11/ws", access_token="t") as peer:
        peer.add_user(10001, "张三", card="一队 张三")
        reply = await peer.ask_group(20001, 10001, "/ping")
        assert "pong" in reply.text
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import itertools
import json
import re
import stat
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from typing_extensions import Self
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

__all__ = [
    "ApiCall",
    "OneBotConnectError",
    "OneBotPeer",
    "OneBotRefused",
    "SentMessage",
    "at_segment",
    "escape",
    "image_segment",
    "location_card",
    "location_segment",
    "normalise_message",
    "parse_cq",
    "plain_text",
    "reply_segment",
    "text_segment",
    "to_cq",
    "unescape",
]

Segment = dict[str, Any]
Handler = Callable[[dict[str, Any]], Any]

# --------------------------------------------------------------------------------------------------------------
# Message segments and CQ codes (message/string.md)
# --------------------------------------------------------------------------------------------------------------


def escape(text: str, *, escape_comma: bool = False) -> str:
    """CQ escaping: ``&`` ``[`` ``]`` everywhere, ``,`` too inside CQ code parameters."""
    text = text.replace("&", "&amp;").replace("[", "&#91;").replace("]", "&#93;")
    if escape_comma:
        text = text.replace(",", "&#44;")
    return text


def unescape(text: str) -> str:
    return text.replace("&#44;", ",").replace("&#91;", "[").replace("&#93;", "]").replace("&amp;", "&")


def text_segment(text: str) -> Segment:
    return {"type": "text", "data": {"text": text}}


def at_segment(qq: int | str) -> Segment:
    """An @mention; ``at_segment(self_id)`` addresses the bot (NoneBot then sets ``to_me``). ``"all"`` is @全体成员."""
    return {"type": "at", "data": {"qq": str(qq)}}


def reply_segment(message_id: int | str) -> Segment:
    """A quote of an earlier message; the bot's adapter looks it up with ``get_msg``."""
    return {"type": "reply", "data": {"id": str(message_id)}}


def image_segment(file: str, url: str | None = None) -> Segment:
    data: dict[str, Any] = {"file": file}
    if url:
        data["url"] = url
    return {"type": "image", "data": data}


def location_segment(lat: float, lon: float, title: str = "", content: str = "") -> Segment:
    """The OneBot v11 standard ``location`` segment."""
    return {"type": "location", "data": {"lat": str(lat), "lon": str(lon), "title": title, "content": content}}


def location_card(lat: float, lng: float, name: str = "位置分享", address: str = "") -> Segment:
    """A location shared from the QQ client as NapCat reports it: a ``json`` ark card of ``com.tencent.map``."""
    card = {
        "app": "com.tencent.map",
        "config": {"autosize": False, "forward": True, "type": "normal"},
        "desc": "地图",
        "meta": {
            "Location.Search": {
                "address": address,
                "enum_relation_type": 1,
                "from": "plusPanel",
                "from_account": 0,
                "id": "",
                "lat": str(lat),
                "lng": str(lng),
                "name": name,
                "uint64_peer_account": 0,
            }
        },
        "prompt": f"[位置]{name}",
        "ver": "1.1.2.21",
        "view": "LocationShare",
    }
    return {"type": "json", "data": {"data": json.dumps(card, ensure_ascii=False, separators=(",", ":"))}}


def to_cq(segments: Iterable[Segment]) -> str:
    """The CQ-string form of a message (what ``raw_message`` carries)."""
    parts = []
    for segment in segments:
        data = segment.get("data") or {}
        if segment.get("type") == "text":
            parts.append(escape(str(data.get("text", ""))))
            continue
        params = "".join(
            f",{key}={escape(_cq_value(value), escape_comma=True)}" for key, value in data.items() if value is not None
        )
        parts.append(f"[CQ:{segment.get('type')}{params}]")
    return "".join(parts)


def _cq_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_CQ_CODE = re.compile(r"\[CQ:([A-Za-z0-9_.\-]+)((?:,[^,\]]*)*)\]")


def parse_cq(message: str) -> list[Segment]:
    """Parse a CQ string into segments (unescaping text and parameters)."""
    segments: list[Segment] = []
    position = 0
    for match in _CQ_CODE.finditer(message):
        if match.start() > position:
            segments.append(text_segment(unescape(message[position : match.start()])))
        data: dict[str, Any] = {}
        for param in filter(None, match.group(2).split(",")):
            key, _, value = param.partition("=")
            data[key.strip()] = unescape(value)
        segments.append({"type": match.group(1), "data": data})
        position = match.end()
    if position < len(message):
        segments.append(text_segment(unescape(message[position:])))
    return segments


def normalise_message(message: Any, *, auto_escape: bool = False) -> list[Segment]:
    """A message param as the bot may send it (CQ string, one segment, segment list) as a list of segments."""
    if message is None:
        return []
    if isinstance(message, str):
        return [text_segment(message)] if auto_escape else parse_cq(message)
    if isinstance(message, dict):
        message = [message]
    segments = []
    for segment in message:
        if isinstance(segment, str):
            segments.extend(parse_cq(segment))
        else:
            segments.append({"type": str(segment.get("type")), "data": dict(segment.get("data") or {})})
    return segments


def plain_text(segments: Iterable[Segment]) -> str:
    return "".join(str((s.get("data") or {}).get("text", "")) for s in segments if s.get("type") == "text")


# --------------------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------------------


@dataclass
class SentMessage:
    """One message the bot sent (send_msg / send_group_msg / send_private_msg)."""

    action: str
    message_type: str  # "group" or "private"
    group_id: int | None
    user_id: int | None  # the addressee of a private message; None for group messages
    message: list[Segment]
    text: str  # the text segments, concatenated
    raw: dict[str, Any]  # the params exactly as the bot sent them
    message_id: int = 0
    time: float = field(default_factory=time.time)

    def segments(self, type_: str) -> list[Segment]:
        return [s for s in self.message if s.get("type") == type_]

    def describe(self) -> str:
        where = f"group {self.group_id}" if self.message_type == "group" else f"private {self.user_id}"
        others = [s["type"] for s in self.message if s.get("type") != "text"]
        extra = f" +{others}" if others else ""
        return f"{self.action} -> {where}: {self.text!r}{extra}"


@dataclass
class ApiCall:
    """One API call the bot made, with the response the peer gave."""

    action: str
    params: dict[str, Any]
    echo: Any
    response: dict[str, Any]
    time: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        return self.response.get("status") == "ok"


@dataclass
class _User:
    user_id: int
    nickname: str
    card: str = ""
    sex: str = "unknown"
    age: int = 0
    friend: bool = True


@dataclass
class _Group:
    group_id: int
    group_name: str
    members: dict[int, dict[str, Any]] = field(default_factory=dict)  # user_id -> {"role", "card", "join_time"}


class OneBotConnectError(RuntimeError):
    """The peer could not connect to the bot's reverse WebSocket in time."""


class OneBotRefused(OneBotConnectError):
    """The bot answered the WebSocket handshake with an error status (403: bad/missing token or duplicate self id)."""

    def __init__(self, status: int, body: str, url: str) -> None:
        self.status = status
        self.body = body
        hint = (
            " (wrong or missing access token, missing X-Self-ID, or a connection with this X-Self-ID is still open)"
            if status == 403
            else ""
        )
        super().__init__(f"bot refused the OneBot connection to {url}: HTTP {status}{hint} {body!r}".rstrip())


class _Failure(Exception):
    def __init__(self, retcode: int, message: str) -> None:
        super().__init__(message)
        self.retcode = retcode
        self.message = message


# --------------------------------------------------------------------------------------------------------------
# The peer
# --------------------------------------------------------------------------------------------------------------


class OneBotPeer:
    """The implementation side of OneBot v11 over reverse WebSocket (Universal role)."""

    def __init__(
        self,
        url: str,
        self_id: int | str = "10000",
        access_token: str | None = None,
        *,
        nickname: str = "义警助手",
        heartbeat_interval: float | None = None,
        app_name: str = "NapCat.Onebot",
        app_version: str = "4.7.0",
    ) -> None:
        self.url = url
        self.self_id = str(self_id)
        self.access_token = access_token
        self.nickname = nickname
        self.heartbeat_interval = heartbeat_interval
        self.app_name = app_name
        self.app_version = app_version

        self.sent: list[SentMessage] = []
        self.calls: list[ApiCall] = []
        self.events: list[dict[str, Any]] = []  # every event the peer played
        self.files: list[ApiCall] = []  # upload_group_file / upload_private_file calls
        self.read_files: list[bytes] = []  # local files read by download_file (and sent to no one)
        self.deleted: list[int] = []  # message ids the bot recalled
        self.messages: dict[int, dict[str, Any]] = {}  # message_id -> get_msg data

        self.users: dict[int, _User] = {}
        self.groups: dict[int, _Group] = {}

        self._ids = itertools.count(1001)
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task | None = None
        self._heartbeat: asyncio.Task | None = None
        self._changed = asyncio.Event()
        self._failures: dict[str, list[tuple[int, str]]] = {}
        self._handlers: dict[str, Handler] = {}
        self.connected_at: float | None = None
        self.close_reason: str | None = None

    # ---------------------------------------------------------------- connection

    @property
    def connected(self) -> bool:
        return self._ws is not None and self._reader is not None and not self._reader.done()

    def _headers(self) -> dict[str, str]:
        headers = {"X-Self-ID": self.self_id, "X-Client-Role": "Universal", "User-Agent": "OneBot/11"}
        if self.access_token is not None:
            headers["Authorization"] = f"Bearer {self.access_token}"
        return headers

    async def connect(self, timeout: float = 20.0, *, retry_refused: bool = False) -> OneBotPeer:
        """Connect, retrying while the bot is not listening yet; then report the lifecycle ``connect`` event.

        A refusal (HTTP 403: wrong token, or a connection with this self id still open) raises
        :class:`OneBotRefused` at once, unless ``retry_refused`` (e.g. right after a reconnect) retries it too.
        """
        if self.connected:
            raise RuntimeError("already connected")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last_error: BaseException | None = None
        while True:
            remaining = deadline - loop.time()
            try:
                ws = await connect(
                    self.url,
                    additional_headers=self._headers(),
                    open_timeout=max(0.5, min(5.0, remaining)),
                    ping_interval=None,
                    max_size=None,
                    compression=None,
                )
                break
            except InvalidStatus as error:
                status = error.response.status_code
                body = error.response.body.decode("utf-8", "replace") if error.response.body else ""
                refused = OneBotRefused(status, body, self.url)
                if status in (401, 403) and not retry_refused:
                    raise refused from None
                last_error = refused
            except (OSError, InvalidHandshake, asyncio.TimeoutError) as error:
                last_error = error
            if loop.time() >= deadline:
                if isinstance(last_error, OneBotRefused):
                    raise last_error
                raise OneBotConnectError(
                    f"could not connect to {self.url} within {timeout:.0f}s: {last_error!r}"
                ) from last_error
            await asyncio.sleep(0.1)

        self._ws = ws
        self.close_reason = None
        self.connected_at = time.time()
        await self._send_event(
            {
                "time": int(time.time()),
                "self_id": int(self.self_id),
                "post_type": "meta_event",
                "meta_event_type": "lifecycle",
                "sub_type": "connect",
            }
        )
        self._reader = asyncio.create_task(self._read(ws), name=f"onebot-peer-{self.self_id}")
        if self.heartbeat_interval:
            self._heartbeat = asyncio.create_task(self._beat(ws, self.heartbeat_interval))
        return self

    async def close(self) -> None:
        """Close the connection (a clean WebSocket close, as when NapCat stops)."""
        ws, self._ws = self._ws, None
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._heartbeat
            self._heartbeat = None
        if ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 5)
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._reader, 5)
            self._reader = None

    async def wait_closed(self, timeout: float = 10.0) -> None:
        """Wait until the bot side closes the connection (e.g. the bot process stopped)."""
        if self._reader is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"the bot did not close the OneBot connection within {timeout}s") from None

    async def __aenter__(self) -> Self:
        if not self.connected:
            await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                try:
                    data = json.loads(raw)
                except (TypeError, ValueError):
                    continue
                if isinstance(data, dict) and "action" in data:
                    response = self._answer(data)
                    try:
                        await ws.send(json.dumps(response, ensure_ascii=False))
                    except ConnectionClosed:
                        break
        except ConnectionClosed as closed:
            self.close_reason = f"{closed!r}"
        finally:
            if ws.close_code is not None:
                self.close_reason = f"code={ws.close_code} reason={ws.close_reason!r}"
            if self._ws is ws:
                self._ws = None
            self._notify()

    async def _beat(self, ws: ClientConnection, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            heartbeat = {
                "time": int(time.time()),
                "self_id": int(self.self_id),
                "post_type": "meta_event",
                "meta_event_type": "heartbeat",
                "status": {"online": True, "good": True},
                "interval": int(interval * 1000),
            }
            try:
                await ws.send(json.dumps(heartbeat))
            except ConnectionClosed:
                return

    async def _send_event(self, event: dict[str, Any]) -> None:
        if self._ws is None:
            raise RuntimeError(f"the OneBot peer is not connected ({self.close_reason or 'never connected'})")
        self.events.append(event)
        await self._ws.send(json.dumps(event, ensure_ascii=False))

    # ---------------------------------------------------------------- contacts

    def add_user(
        self,
        user_id: int,
        nickname: str,
        card: str | None = None,
        *,
        group_id: int | None = None,
        role: str = "member",
        friend: bool = True,
        sex: str = "unknown",
        age: int = 0,
    ) -> None:
        """Make a QQ user known (for get_group_member_info, get_stranger_info, get_friend_list...).

        With ``group_id`` the user is also a member of that group with ``role`` (owner/admin/member).
        """
        user = self.users.get(user_id)
        if user is None:
            self.users[user_id] = user = _User(user_id, nickname)
        user.nickname, user.friend, user.sex, user.age = nickname, friend, sex, age
        if card is not None:
            user.card = card
        if group_id is not None:
            self._join(group_id, user_id, role=role, card=card)

    def add_group(self, group_id: int, group_name: str) -> None:
        group = self.groups.setdefault(group_id, _Group(group_id, group_name))
        group.group_name = group_name

    def _join(self, group_id: int, user_id: int, *, role: str | None = None, card: str | None = None) -> dict[str, Any]:
        group = self.groups.setdefault(group_id, _Group(group_id, f"群{group_id}"))
        member = group.members.setdefault(
            user_id, {"role": "member", "card": self.users[user_id].card, "join_time": int(time.time())}
        )
        if role is not None:
            member["role"] = role
        if card is not None:
            member["card"] = card
        return member

    def _remember_sender(self, user_id: int, nickname: str | None, card: str | None) -> _User:
        user = self.users.get(user_id)
        if user is None:
            self.users[user_id] = user = _User(user_id, nickname or f"QQ用户{user_id}")
        elif nickname:
            user.nickname = nickname
        if card is not None:
            user.card = card
        return user

    # ---------------------------------------------------------------- playing messages

    def _next_id(self) -> int:
        return next(self._ids)

    def _event_message(self, message: str | Segment | list[Segment]) -> list[Segment]:
        if isinstance(message, str):
            return [text_segment(message)]
        if isinstance(message, dict):
            message = [message]
        return [{"type": s["type"], "data": dict(s.get("data") or {})} for s in message]

    async def group_message(
        self,
        group_id: int,
        user_id: int,
        message: str | Segment | list[Segment],
        *,
        nickname: str | None = None,
        card: str | None = None,
        role: str | None = None,
    ) -> int:
        """Play a group message from ``user_id``; returns its message_id.

        ``message``: a str (one text segment, never parsed for CQ codes) or segment dicts, e.g.
        ``[at_segment(peer.self_id), text_segment(" /ping")]`` or ``[location_card(36.66, 117.02)]``.
        """
        user = self._remember_sender(user_id, nickname, None)
        member = self._join(group_id, user_id, role=role, card=card)
        segments = self._event_message(message)
        message_id = self._next_id()
        now = int(time.time())
        sender = {
            "user_id": user_id,
            "nickname": user.nickname,
            "card": member["card"],
            "sex": user.sex,
            "age": user.age,
            "area": "",
            "level": "1",
            "role": member["role"],
            "title": "",
        }
        event = {
            "self_id": int(self.self_id),
            "user_id": user_id,
            "time": now,
            "message_id": message_id,
            "message_seq": message_id,
            "real_id": message_id,
            "message_type": "group",
            "sender": sender,
            "raw_message": to_cq(segments),
            "font": 14,
            "sub_type": "normal",
            "message": segments,
            "message_format": "array",
            "post_type": "message",
            "group_id": group_id,
        }
        self._store(message_id, "group", sender, segments, now, group_id=group_id, user_id=user_id)
        await self._send_event(event)
        return message_id

    async def private_message(
        self, user_id: int, message: str | Segment | list[Segment], *, nickname: str | None = None
    ) -> int:
        """Play a private (friend) message from ``user_id``; returns its message_id."""
        user = self._remember_sender(user_id, nickname, None)
        segments = self._event_message(message)
        message_id = self._next_id()
        now = int(time.time())
        sender = {"user_id": user_id, "nickname": user.nickname, "card": "", "sex": user.sex, "age": user.age}
        event = {
            "self_id": int(self.self_id),
            "user_id": user_id,
            "time": now,
            "message_id": message_id,
            "message_seq": message_id,
            "real_id": message_id,
            "message_type": "private",
            "sender": sender,
            "raw_message": to_cq(segments),
            "font": 14,
            "sub_type": "friend",
            "message": segments,
            "message_format": "array",
            "post_type": "message",
            "target_id": int(self.self_id),
        }
        self._store(message_id, "private", sender, segments, now, user_id=user_id)
        await self._send_event(event)
        return message_id

    async def notice(self, notice: dict[str, Any]) -> None:
        """Play any other event (a notice or request): ``time``, ``self_id`` and ``post_type`` are filled in."""
        event = {"time": int(time.time()), "self_id": int(self.self_id), "post_type": "notice", **notice}
        await self._send_event(event)

    def _store(
        self,
        message_id: int,
        message_type: str,
        sender: dict[str, Any],
        segments: list[Segment],
        when: int,
        *,
        group_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        stored = {
            "self_id": int(self.self_id),
            "time": when,
            "message_type": message_type,
            "message_id": message_id,
            "real_id": message_id,
            "message_seq": message_id,
            "sender": dict(sender),
            "message": copy.deepcopy(segments),
            "raw_message": to_cq(segments),
            "font": 14,
            "sub_type": "normal" if message_type == "group" else "friend",
            "post_type": "message",
            "user_id": user_id if user_id is not None else int(sender.get("user_id") or 0),
        }
        if group_id is not None:
            stored["group_id"] = group_id
        self.messages[message_id] = stored

    # ---------------------------------------------------------------- observing what the bot sent

    def mark(self) -> int:
        """The index to pass as ``since=`` to consider only what is sent from now on."""
        return len(self.sent)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(
        self,
        predicate: Callable[[SentMessage], bool],
        timeout: float = 10.0,
        *,
        since: int = 0,
        description: str = "a matching message",
    ) -> SentMessage:
        """The first recorded SentMessage at index >= ``since`` matching ``predicate``, waiting up to ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        index = since
        while True:
            while index < len(self.sent):
                message = self.sent[index]
                index += 1
                if predicate(message):
                    return message
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(self._report(f"no {description} within {timeout}s", since))
            changed = self._changed
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    def _report(self, headline: str, since: int) -> str:
        lines = [f"{headline} (looking from index {since}); the bot sent {len(self.sent)} message(s):"]
        shown = list(enumerate(self.sent))[-40:]
        if len(self.sent) > len(shown):
            lines.append(f"  ... {len(self.sent) - len(shown)} earlier message(s) not shown")
        lines += [f"  #{i} {m.describe()}" for i, m in shown] or ["  (nothing)"]
        failed = [c for c in self.calls if not c.ok]
        if failed:
            lines.append("failed API calls: " + ", ".join(f"{c.action}({c.response.get('message')})" for c in failed))
        if not self.connected:
            lines.append(f"the peer is not connected ({self.close_reason or 'closed'})")
        return "\n".join(lines)

    async def expect_group(
        self, group_id: int, contains: str = "", timeout: float = 10.0, *, since: int = 0
    ) -> SentMessage:
        """The first message sent to group ``group_id`` whose text contains ``contains``; AssertionError if none."""
        return await self.wait_for(
            lambda m: m.message_type == "group" and m.group_id == group_id and contains in m.text,
            timeout,
            since=since,
            description=f"message to group {group_id} containing {contains!r}",
        )

    async def expect_private(
        self, user_id: int, contains: str = "", timeout: float = 10.0, *, since: int = 0
    ) -> SentMessage:
        """The first private message sent to ``user_id`` whose text contains ``contains``; AssertionError if none."""
        return await self.wait_for(
            lambda m: m.message_type == "private" and m.user_id == user_id and contains in m.text,
            timeout,
            since=since,
            description=f"private message to {user_id} containing {contains!r}",
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
        self, group_id: int, user_id: int, message: str | Segment | list[Segment], timeout: float = 10.0, **kwargs: Any
    ) -> SentMessage:
        """Play a group message and return the next message the bot sends to that group."""
        since = self.mark()
        await self.group_message(group_id, user_id, message, **kwargs)
        return await self.wait_for(
            lambda m: m.message_type == "group" and m.group_id == group_id,
            timeout,
            since=since,
            description=f"reply in group {group_id} to {message!r}",
        )

    async def ask_private(
        self, user_id: int, message: str | Segment | list[Segment], timeout: float = 10.0, **kwargs: Any
    ) -> SentMessage:
        """Play a private message and return the next private message the bot sends to that user."""
        since = self.mark()
        await self.private_message(user_id, message, **kwargs)
        return await self.wait_for(
            lambda m: m.message_type == "private" and m.user_id == user_id,
            timeout,
            since=since,
            description=f"private reply to {user_id} for {message!r}",
        )

    def calls_to(self, action: str) -> list[ApiCall]:
        return [c for c in self.calls if c.action == action]

    # ---------------------------------------------------------------- answering API calls

    def fail_next(self, action: str, n: int = 1, *, retcode: int = 200, message: str = "simulated failure") -> None:
        """Make the next ``n`` calls of ``action`` answer ``{"status": "failed", "retcode": retcode}``."""
        self._failures.setdefault(action, []).extend([(retcode, message)] * n)

    def set_handler(self, action: str, handler: Handler) -> None:
        """Answer ``action`` with ``handler(params)``'s return value as ``data`` (replaces the built-in one)."""
        self._handlers[action] = handler

    def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        action = str(request.get("action", ""))
        params = request.get("params") or {}
        echo = request.get("echo")
        try:
            if self._failures.get(action):
                retcode, message = self._failures[action].pop(0)
                raise _Failure(retcode, message)
            handler = self._handlers.get(action) or getattr(self, f"_api_{action}", None)
            if handler is None:
                raise _Failure(1404, f"不支持的Api {action}")
            data = handler(params)
            response = {"status": "ok", "retcode": 0, "data": data, "message": "", "wording": "", "echo": echo}
        except _Failure as failure:
            response = {
                "status": "failed",
                "retcode": failure.retcode,
                "data": None,
                "message": failure.message,
                "wording": failure.message,
                "echo": echo,
            }
        except Exception as error:  # a bug in a handler: report it to the bot as NapCat would
            response = {
                "status": "failed",
                "retcode": 200,
                "data": None,
                "message": repr(error),
                "wording": repr(error),
                "echo": echo,
            }
        self.calls.append(ApiCall(action, params, echo, response))
        self._notify()
        return response

    # --- sending

    def _record_send(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        group_id = _int(params.get("group_id"))
        user_id = _int(params.get("user_id"))
        if action == "send_group_msg":
            message_type = "group"
        elif action == "send_private_msg":
            message_type = "private"
        else:
            message_type = params.get("message_type") or (
                "group" if group_id is not None else "private" if user_id is not None else None
            )
        if message_type not in ("group", "private"):
            raise _Failure(1400, "消息类型无法确定 (no message_type, group_id or user_id)")
        if message_type == "group" and group_id is None:
            raise _Failure(1400, "缺少 group_id")
        if message_type == "private" and user_id is None:
            raise _Failure(1400, "缺少 user_id")
        segments = normalise_message(params.get("message"), auto_escape=_truthy(params.get("auto_escape")))
        if not segments:
            raise _Failure(1400, "消息体无法解析, 请检查是否发送了不支持的消息类型 (empty message)")
        message_id = self._next_id()
        sent = SentMessage(
            action=action,
            message_type=message_type,
            group_id=group_id if message_type == "group" else None,
            user_id=user_id if message_type == "private" else None,
            message=segments,
            text=plain_text(segments),
            raw=params,
            message_id=message_id,
        )
        sender = {"user_id": int(self.self_id), "nickname": self.nickname, "card": "", "role": "member"}
        self._store(
            message_id,
            message_type,
            sender,
            segments,
            int(time.time()),
            group_id=sent.group_id,
            user_id=int(self.self_id),
        )
        self.sent.append(sent)
        return {"message_id": message_id}

    def _api_send_msg(self, params: dict[str, Any]) -> Any:
        return self._record_send("send_msg", params)

    def _api_send_group_msg(self, params: dict[str, Any]) -> Any:
        return self._record_send("send_group_msg", params)

    def _api_send_private_msg(self, params: dict[str, Any]) -> Any:
        return self._record_send("send_private_msg", params)

    def _api_delete_msg(self, params: dict[str, Any]) -> Any:
        message_id = _int(params.get("message_id"))
        if message_id not in self.messages:
            raise _Failure(200, "消息不存在 (message not found)")
        self.deleted.append(message_id)
        return None

    def _api_get_msg(self, params: dict[str, Any]) -> Any:
        message_id = _int(params.get("message_id"))
        if message_id not in self.messages:
            raise _Failure(200, "消息不存在 (message not found)")
        return copy.deepcopy(self.messages[message_id])

    def _api_upload_group_file(self, params: dict[str, Any]) -> Any:
        if _int(params.get("group_id")) is None or not params.get("file"):
            raise _Failure(1400, "缺少 group_id 或 file")
        return self._record_file("upload_group_file", params)

    def _api_upload_private_file(self, params: dict[str, Any]) -> Any:
        if _int(params.get("user_id")) is None or not params.get("file"):
            raise _Failure(1400, "缺少 user_id 或 file")
        return self._record_file("upload_private_file", params)

    def _record_file(self, action: str, params: dict[str, Any]) -> Any:
        """Like NapCat, read the file when asked to upload it (a path on this machine, file:// or base64://); its
        bytes are kept under ``"content"`` in the recorded call's params, and a file's permissions under ``"mode"``."""
        source = str(params["file"])
        mode = None
        try:
            if source.startswith("base64://"):
                content = base64.b64decode(source.removeprefix("base64://"))
            else:
                path = Path(source.removeprefix("file://"))
                content = path.read_bytes()
                mode = stat.S_IMODE(path.stat().st_mode)
        except (OSError, ValueError) as error:
            raise _Failure(1200, f"读取文件失败：{error}") from None
        self.files.append(ApiCall(action, {**params, "content": content, "mode": mode}, None, {"status": "ok"}))
        self._notify()
        return {"file_id": f"/{self._next_id():08x}"}

    def _api_download_file(self, params: dict[str, Any]) -> Any:
        """Like NapCat's download_file: a local file (a path or file:// URL) is read into the client's cache and
        sent to no one; the bytes read are recorded in ``self.read_files``."""
        source = str(params.get("url") or "")
        if not source.startswith("file://"):
            raise _Failure(200, f"识别URL失败, uri= {source}")
        try:
            content = Path(unquote(source.removeprefix("file://"))).read_bytes()
        except OSError as error:
            raise _Failure(200, f"{error.strerror}: {source}") from None
        self.read_files.append(content)
        return {"file": f"/napcat/temp/{params.get('name') or 'file'}"}

    # --- information

    def _api_get_login_info(self, params: dict[str, Any]) -> Any:
        return {"user_id": int(self.self_id), "nickname": self.nickname}

    def _api_get_stranger_info(self, params: dict[str, Any]) -> Any:
        user_id = _int(params.get("user_id"))
        user = self.users.get(user_id)  # type: ignore[arg-type]
        if user is None:
            raise _Failure(200, f"用户 {user_id} 不存在 (unknown user)")
        return {
            "user_id": user.user_id,
            "uid": f"u_{user.user_id}",
            "nickname": user.nickname,
            "sex": user.sex,
            "age": user.age,
            "qid": "",
            "level": 1,
            "login_days": 1,
        }

    def _member_info(self, group: _Group, user_id: int) -> dict[str, Any]:
        member = group.members[user_id]
        user = self.users.get(user_id) or _User(user_id, f"QQ用户{user_id}")
        return {
            "group_id": group.group_id,
            "user_id": user_id,
            "nickname": user.nickname,
            "card": member["card"] or "",
            "sex": user.sex,
            "age": user.age,
            "area": "",
            "join_time": member["join_time"],
            "last_sent_time": int(time.time()),
            "level": "1",
            "role": member["role"],
            "unfriendly": False,
            "title": "",
            "title_expire_time": 0,
            "card_changeable": True,
            "shut_up_timestamp": 0,
        }

    def _group(self, params: dict[str, Any]) -> _Group:
        group_id = _int(params.get("group_id"))
        group = self.groups.get(group_id)  # type: ignore[arg-type]
        if group is None:
            raise _Failure(200, f"群 {group_id} 不存在 (unknown group)")
        return group

    def _api_get_group_member_info(self, params: dict[str, Any]) -> Any:
        group = self._group(params)
        user_id = _int(params.get("user_id"))
        if user_id not in group.members:
            raise _Failure(200, f"群成员 {user_id} 不存在 (not a member of {group.group_id})")
        return self._member_info(group, user_id)

    def _api_get_group_member_list(self, params: dict[str, Any]) -> Any:
        group = self._group(params)
        return [self._member_info(group, user_id) for user_id in group.members]

    def _group_info(self, group: _Group) -> dict[str, Any]:
        return {
            "group_id": group.group_id,
            "group_name": group.group_name,
            "group_remark": "",
            "member_count": len(group.members) + 1,
            "max_member_count": 500,
            "group_all_shut": 0,
        }

    def _api_get_group_info(self, params: dict[str, Any]) -> Any:
        return self._group_info(self._group(params))

    def _api_get_group_list(self, params: dict[str, Any]) -> Any:
        return [self._group_info(group) for group in self.groups.values()]

    def _api_get_friend_list(self, params: dict[str, Any]) -> Any:
        return [
            {"user_id": u.user_id, "nickname": u.nickname, "remark": "", "sex": u.sex, "age": u.age}
            for u in self.users.values()
            if u.friend
        ]

    def _api_get_version_info(self, params: dict[str, Any]) -> Any:
        return {"app_name": self.app_name, "app_version": self.app_version, "protocol_version": "v11"}

    def _api_get_status(self, params: dict[str, Any]) -> Any:
        return {"online": True, "good": True, "stat": {}}

    def _api_can_send_image(self, params: dict[str, Any]) -> Any:
        return {"yes": True}

    def _api_can_send_record(self, params: dict[str, Any]) -> Any:
        return {"yes": True}


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)
