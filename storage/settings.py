"""Domain settings the services read; the bot sets them once at start-up from the configuration file."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from pathlib import Path
from zoneinfo import ZoneInfo

VETTING_STAGE = "vetted"
"""The background check (政审) an officer records between applying and approval."""
TRAINING_STAGE = "trained"
"""A course (`[members] onboarding_course`) the applicant completes between applying and approval."""
STAGES_AVAILABLE = (VETTING_STAGE, TRAINING_STAGE)
"""The stages a deployment can turn on."""


class TagSource(str, Enum):
    """Which of a member's tags count for a task's or a call-out's `需要:` (`[members] required_tags_from`)."""

    declared = "declared"
    """Every specialty the member has: the ones they declared and the ones an officer verified or added."""
    verified = "verified"
    """Only the ones an officer verified or added (/标签)."""
    qualified = "qualified"
    """No specialty at all: only qualifications, granted by completing a course (/课程)."""


@dataclass
class DomainSettings:
    superusers: frozenset[str] = field(default_factory=frozenset)
    """Administrators as "platform:user_id"."""
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    checkin_opens_before: timedelta = timedelta(minutes=30)
    """Check-in opens this long before a task starts (and stays open until it ends)."""
    close_after: timedelta = timedelta(minutes=60)
    """A task an officer has not closed is closed automatically this long after its end."""
    location_window: timedelta = timedelta(minutes=1)
    """A location shared this long after checking in still counts for that check-in."""
    points_per_hour: int = 0
    """Attendance points per hour served, on top of the points a task was posted with."""
    no_show_penalty: int = 0
    """Points taken for a sign-up without a check-in (a positive number; 0 takes none)."""
    reminders_before: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=1))
    """Reminders to a task's groups this long before it starts."""
    remind_at_checkin_open: bool = True
    deadline_notice_before: timedelta | None = timedelta(hours=2)
    """A reminder this long before the sign-up deadline, when places are left (None: none)."""
    data_dir: Path = field(default_factory=lambda: Path("data"))
    """Files the bot keeps (tip photos), outside any web root."""
    tip_points: dict[str, int] = field(default_factory=dict)
    """Points for a verified tip by category; others get tip_points_default."""
    tip_points_default: int = 10
    anonymous_payout_at: tuple[int, int, int] = (0, 10, 0)
    """(weekday with Monday 0, hour, minute) from when anonymous tips' rewards due are paid, once a week per unit."""
    anonymous_min_reporters: int = 3
    """A unit's anonymous rewards are paid only when at least this many reporters are due at once."""
    alert_escalate_after: timedelta = timedelta(minutes=5)
    """An emergency call-out short of its need this long after it went out is sent once more, wider."""
    daily_cap: int = 0
    """Most points a member can earn in a day (0: no cap); spending and refunds do not count."""
    monthly_cap: int = 0
    allow_overdraft: bool = False
    """Whether an officer may take more points than a member has (after confirming), leaving a negative balance."""
    weekly_board_at: tuple[int, int, int] | None = (0, 9, 0)
    """(weekday with Monday 0, hour, minute) when last week's leaderboard goes to every team's groups; None: never."""
    honours_at: tuple[int, int] | None = (9, 0)
    """(hour, minute) on the first of a month when last month's 义警之星 are announced; None: never."""
    rewards: list[dict] = field(default_factory=list)
    """Rewards from the configuration, offered in every unit's shop: name, cost, stock, per_member."""
    require_insurance: bool = False
    """Whether a member needs an insurance policy valid on a task's day to sign up for it."""
    insurance_reminder_days: tuple[int, ...] = (30, 7)
    """Reminders to the member and their leaders this many days before a policy runs out (empty: none)."""
    insurance_reminder_at: tuple[int, int] | None = (9, 0)
    """(hour, minute) of the day the insurance reminders go out; None: never."""
    required_tags_from: TagSource = TagSource.declared
    """Which tags a task's or call-out's `需要:` accepts besides valid qualifications, which it always accepts
    (storage.services.people.missing_tags decides)."""
    pass_mark: int = 80
    """A new course's quiz pass mark out of 100, unless its officer writes 及格N分."""
    quiz_retry_after: timedelta = timedelta(hours=24)
    """How long after a failed quiz the member may take it again."""
    qualification_reminder_days: tuple[int, ...] = (30,)
    """Reminders to the member this many days before a qualification runs out (empty: none)."""
    training_reminder_at: tuple[int, int] | None = (9, 0)
    """(hour, minute) the qualification reminders go out, and on the first of a month the officers' list of what
    runs out next month; None: never."""
    export_full_personal_data: bool = False
    """Whether /导出 shows phones, ID numbers and emergency contacts whole to an officer of the member's own unit."""
    ask_id_number: bool = False
    """Whether the private application asks for the resident ID number."""
    consent_text: str = ""
    """What an applicant agrees to (同意) before anything they typed is saved; empty: the chat face's own text."""
    stages: tuple[str, ...] = ()
    """The vetting stages turned on between applying and approval, of STAGES_AVAILABLE."""
    onboarding_course: str = ""
    """With the stage "trained": the name of the course an applicant completes before approval (the one of that name
    in the team's unit, or the nearest unit above it)."""
    invite_valid_for: timedelta = timedelta(days=7)
    """How long an invite code (/招募) admits applications when its maker does not say."""
    invite_places: int | None = 30
    """How many applications an invite admits when its maker does not say (None: no limit)."""
    vetting_note_to_applicant: bool = False
    """Whether an applicant is told the officer's note on their background check (the notice, /档案, /我的数据)."""

    @property
    def vetting_on(self) -> bool:
        return VETTING_STAGE in self.stages

    @property
    def training_stage_on(self) -> bool:
        return TRAINING_STAGE in self.stages


settings = DomainSettings()


def configure(
    *,
    superusers: list[str] | None = None,
    timezone: str | None = None,
    checkin_opens_before_minutes: int | None = None,
    close_after_minutes: int | None = None,
    points_per_hour: int | None = None,
    no_show_penalty: int | None = None,
    reminders_before_minutes: list[int] | None = None,
    remind_at_checkin_open: bool | None = None,
    deadline_notice_before_minutes: int | None = None,
    data_dir: str | None = None,
    tip_points: dict[str, int] | None = None,
    tip_points_default: int | None = None,
    anonymous_payout_at: tuple[int, int, int] | None = None,
    anonymous_min_reporters: int | None = None,
    alert_escalate_after_minutes: float | None = None,
    daily_cap: int | None = None,
    monthly_cap: int | None = None,
    allow_overdraft: bool | None = None,
    weekly_board_at: tuple[int, int, int] | bool | None = False,
    honours_at: tuple[int, int] | bool | None = False,
    rewards: list[dict] | None = None,
    require_insurance: bool | None = None,
    insurance_reminder_days: list[int] | None = None,
    insurance_reminder_at: tuple[int, int] | bool | None = False,
    required_tags_from: str | None = None,
    export_full_personal_data: bool | None = None,
    ask_id_number: bool | None = None,
    consent_text: str | None = None,
    stages: list[str] | tuple[str, ...] | None = None,
    onboarding_course: str | None = None,
    invite_valid_days: int | None = None,
    invite_places: int | None = None,
    vetting_note_to_applicant: bool | None = None,
    pass_mark: int | None = None,
    quiz_retry_after_hours: float | None = None,
    qualification_reminder_days: list[int] | None = None,
    training_reminder_at: tuple[int, int] | bool | None = False,
) -> DomainSettings:
    """Set what is given; False for the schedules means "leave as is" (None turns them off)."""
    if superusers is not None:
        settings.superusers = frozenset(superusers)
    if timezone is not None:
        settings.timezone = ZoneInfo(timezone)
    if checkin_opens_before_minutes is not None:
        settings.checkin_opens_before = timedelta(minutes=checkin_opens_before_minutes)
    if close_after_minutes is not None:
        settings.close_after = timedelta(minutes=close_after_minutes)
    if points_per_hour is not None:
        settings.points_per_hour = points_per_hour
    if no_show_penalty is not None:
        settings.no_show_penalty = no_show_penalty
    if reminders_before_minutes is not None:
        settings.reminders_before = tuple(timedelta(minutes=minutes) for minutes in reminders_before_minutes)
    if remind_at_checkin_open is not None:
        settings.remind_at_checkin_open = remind_at_checkin_open
    if deadline_notice_before_minutes is not None:
        settings.deadline_notice_before = (
            timedelta(minutes=deadline_notice_before_minutes) if deadline_notice_before_minutes > 0 else None
        )
    if data_dir is not None:
        settings.data_dir = Path(data_dir)
    if tip_points is not None:
        settings.tip_points = dict(tip_points)
    if tip_points_default is not None:
        settings.tip_points_default = tip_points_default
    if anonymous_payout_at is not None:
        settings.anonymous_payout_at = anonymous_payout_at
    if anonymous_min_reporters is not None:
        settings.anonymous_min_reporters = anonymous_min_reporters
    if alert_escalate_after_minutes is not None:
        settings.alert_escalate_after = timedelta(minutes=alert_escalate_after_minutes)
    if daily_cap is not None:
        settings.daily_cap = daily_cap
    if monthly_cap is not None:
        settings.monthly_cap = monthly_cap
    if allow_overdraft is not None:
        settings.allow_overdraft = allow_overdraft
    if weekly_board_at is not False:
        settings.weekly_board_at = weekly_board_at  # type: ignore[assignment]
    if honours_at is not False:
        settings.honours_at = honours_at  # type: ignore[assignment]
    if rewards is not None:
        settings.rewards = [dict(reward) for reward in rewards]
    if require_insurance is not None:
        settings.require_insurance = require_insurance
    if insurance_reminder_days is not None:
        settings.insurance_reminder_days = tuple(sorted(set(insurance_reminder_days), reverse=True))
    if insurance_reminder_at is not False:
        settings.insurance_reminder_at = insurance_reminder_at  # type: ignore[assignment]
    if required_tags_from is not None:
        settings.required_tags_from = TagSource(required_tags_from)
    if export_full_personal_data is not None:
        settings.export_full_personal_data = export_full_personal_data
    if ask_id_number is not None:
        settings.ask_id_number = ask_id_number
    if consent_text is not None:
        settings.consent_text = consent_text.strip()
    if stages is not None:
        unknown = [stage for stage in stages if stage not in STAGES_AVAILABLE]
        if unknown:
            raise ValueError(f"stages {unknown} are not available; only {STAGES_AVAILABLE}")
        settings.stages = tuple(dict.fromkeys(stages))
    if onboarding_course is not None:
        settings.onboarding_course = onboarding_course.strip()
    if invite_valid_days is not None:
        settings.invite_valid_for = timedelta(days=invite_valid_days)
    if invite_places is not None:
        settings.invite_places = invite_places or None
    if vetting_note_to_applicant is not None:
        settings.vetting_note_to_applicant = vetting_note_to_applicant
    if pass_mark is not None:
        settings.pass_mark = pass_mark
    if quiz_retry_after_hours is not None:
        settings.quiz_retry_after = timedelta(hours=quiz_retry_after_hours)
    if qualification_reminder_days is not None:
        settings.qualification_reminder_days = tuple(sorted(set(qualification_reminder_days), reverse=True))
    if training_reminder_at is not False:
        settings.training_reminder_at = training_reminder_at  # type: ignore[assignment]
    return settings
