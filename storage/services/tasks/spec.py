"""/发布任务's grammar: a task as an officer writes it, in any order, read into a TaskSpec and checked.

The vocabulary the parser reads (人, 分, 需要:, 每周, …) is data here; what the officer is told when a line cannot
be read is a refusal code (tasks.spec_*), worded by the face.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from storage.errors import DomainError, quoted
from storage.models import utcnow
from storage.services.numerals import with_digits
from storage.services.people import parse_tags
from storage.services.tasks.queries import DEFAULT_RADIUS_M
from storage.services.when import looks_like_time, parse_duration, parse_span

KINDS = ("巡逻", "宣传", "护学岗", "安保", "调解", "隐患排查", "培训", "应急")
MAX_CAPACITY = 1000
MAX_POINTS = 1000
MIN_RADIUS_M = 10
MAX_RADIUS_M = 100_000
MAX_HOURS = 24
MAX_KIND_LENGTH = 20
MAX_PLACE_LENGTH = 100

COUNT = re.compile(r"^(\d+)\s*(人|名)$")
POINTS = re.compile(r"^(\d+)\s*(分|积分)$")
RADIUS = re.compile(r"^(?:半径[:：]?)?(\d+)\s*(米|m)$")
KEYED = re.compile(r"^(需要|特长|截止|报名截止|队伍|单位|坐标|半径|课程)[:：](.+)$")
COORDINATES = re.compile(r"^(-?\d+(?:\.\d+)?)\s*[,，]\s*(-?\d+(?:\.\d+)?)$")
TEAM_SEPARATORS = re.compile(r"[,，、]")
REPEAT_WORDS = ("每周", "每周重复", "每周一次")
TAG_KEYS = ("需要", "特长")
DEADLINE_KEYS = ("截止", "报名截止")
TEAM_KEY = "队伍"
UNIT_KEY = "单位"
COORDINATES_KEY = "坐标"
RADIUS_KEY = "半径"
COURSE_KEY = "课程"
TRAINING_KIND = "培训"
"""A task linked to a course (课程:编号) is one of its sessions: its kind must say 培训 (急救培训 does)."""
METRES = "米"
NUMBER_SIGNS = "#＃"


@dataclass
class TaskSpec:
    """A task as an officer wrote it, checked but not yet saved."""

    kind: str = ""
    place: str = ""
    start: datetime | None = None
    end: datetime | None = None
    capacity: int | None = None
    points: int = 0
    required_tags: list[str] = field(default_factory=list)
    deadline: datetime | None = None
    team_names: list[str] = field(default_factory=list)
    unit_text: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    radius_m: int | None = None
    repeat_weekly: bool = False
    course_id: int | None = None
    """课程:编号: the task is a session of this course (storage/services/training)."""

    def missing(self) -> list[str]:
        """What is still to be written: "kind", "time", "place", "capacity", "duration"."""
        wanted = {"kind": self.kind, "time": self.start, "place": self.place, "capacity": self.capacity}
        missing = [name for name, value in wanted.items() if not value]
        if self.start is not None and self.end is None:
            missing.append("duration")
        return missing


def parse_task_words(words: list[str], now: datetime | None = None) -> TaskSpec:
    """Read /发布任务's words in any order: kind first, then time, duration, place, 10人, 5分, 需要:…, 截止:…"""
    now = now or utcnow()
    spec = TaskSpec()
    words = [word for word in (w.strip() for w in words) if word]
    if not words:
        raise DomainError("tasks.spec_empty")
    spec.kind = words[0]
    if looks_like_time(spec.kind) or COUNT.match(with_digits(spec.kind)):
        raise DomainError("tasks.spec_kind_first")
    place: list[str] = []
    time_words: list[str] = []
    duration: timedelta | None = None
    rest = words[1:]
    index = 0
    while index < len(rest):
        word = rest[index]
        index += 1
        if keyed := KEYED.match(word):
            _apply_keyed(spec, keyed.group(1), keyed.group(2), now)
        elif match := COUNT.match(with_digits(word)):
            spec.capacity = _bounded(match.group(1), 1, MAX_CAPACITY, "capacity")
        elif match := POINTS.match(with_digits(word)):
            spec.points = _bounded(match.group(1), 0, MAX_POINTS, "points")
        elif match := RADIUS.match(word):
            spec.radius_m = _bounded(match.group(1), MIN_RADIUS_M, MAX_RADIUS_M, "radius")
        elif word in REPEAT_WORDS:
            spec.repeat_weekly = True
        elif (length := parse_duration(word)) is not None:
            if not time_words:
                raise DomainError("tasks.spec_duration_before_time")
            duration = length
        elif looks_like_time(word) and not place:
            time_words.append(word)
        else:
            place.append(word)
    if time_words:
        span = parse_span(" ".join(time_words), now)
        spec.start = span.start
        if span.end is not None:
            spec.end = span.end
    if spec.start is not None and duration is not None:
        spec.end = spec.start + duration
    spec.place = " ".join(place)
    if spec.deadline is not None and spec.start is not None and spec.deadline > spec.start:
        raise DomainError("tasks.spec_deadline_after_start")
    if spec.radius_m is not None and spec.latitude is None:
        raise DomainError("tasks.spec_radius_without_coordinates")
    if spec.latitude is not None and spec.radius_m is None:
        spec.radius_m = DEFAULT_RADIUS_M
    return spec


def _bounded(digits: str, low: int, high: int, what: str) -> int:
    """The number written with these digits, refused unless it lies in [low, high]; `what` names the field
    ("capacity", "points", "radius")."""
    value = int(digits) if len(digits) <= 9 else None  # int() refuses over 4,300 digits
    if value is None or not low <= value <= high:
        raise DomainError("tasks.spec_out_of_range", what=what, low=low, high=high)
    return value


def _apply_keyed(spec: TaskSpec, key: str, value: str, now: datetime) -> None:
    value = value.strip()
    if key in TAG_KEYS:
        spec.required_tags = parse_tags(value)
    elif key in DEADLINE_KEYS:
        spec.deadline = parse_span(value, now).start
    elif key == TEAM_KEY:
        spec.team_names = [name for name in TEAM_SEPARATORS.split(value) if name.strip()]
    elif key == UNIT_KEY:
        spec.unit_text = value
    elif key == COORDINATES_KEY:
        match = COORDINATES.match(value)
        if not match:
            raise DomainError("tasks.spec_bad_coordinates")
        latitude, longitude = float(match.group(1)), float(match.group(2))
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise DomainError("tasks.spec_coordinates_out_of_range")
        spec.latitude, spec.longitude = latitude, longitude
    elif key == COURSE_KEY:
        digits = with_digits(value).lstrip(NUMBER_SIGNS)
        if not digits.isdecimal() or len(digits) > 9:
            raise DomainError("tasks.spec_bad_course", text=quoted(value))
        spec.course_id = int(digits)
    elif key == RADIUS_KEY:
        match = RADIUS.match(value) or RADIUS.match(value + METRES)
        if not match:
            raise DomainError("tasks.spec_bad_radius")
        spec.radius_m = _bounded(match.group(1), MIN_RADIUS_M, MAX_RADIUS_M, "radius")


def check_kind(kind: str) -> None:
    """The rule for a task's kind, the same in one line and step by step: 1 to MAX_KIND_LENGTH characters."""
    if not 1 <= len(kind.strip()) <= MAX_KIND_LENGTH:
        raise DomainError("tasks.spec_kind_length", most=MAX_KIND_LENGTH)


def check_place(place: str) -> None:
    """The rule for a task's place, the same in one line and step by step: 1 to MAX_PLACE_LENGTH characters."""
    if not 1 <= len(place.strip()) <= MAX_PLACE_LENGTH:
        raise DomainError("tasks.spec_place_length", most=MAX_PLACE_LENGTH)


def check_spec(spec: TaskSpec) -> None:
    """Everything a task needs, within its rules (the step-by-step form checks each answer with the same
    check_kind and check_place)."""
    missing = spec.missing()
    if missing:
        raise DomainError("tasks.spec_missing", missing=tuple(missing))
    check_kind(spec.kind)
    check_place(spec.place)
    if spec.course_id is not None and TRAINING_KIND not in spec.kind:
        raise DomainError("tasks.course_not_training", kind=spec.kind)
    assert spec.start is not None
    assert spec.end is not None
    if spec.end <= spec.start:
        raise DomainError("tasks.spec_ends_before_start")
    if spec.end - spec.start > timedelta(hours=MAX_HOURS):
        raise DomainError("tasks.spec_too_long", hours=MAX_HOURS)
