"""Tasks: posting, the sign-up list with its waiting list, check-in and check-out, closing and attendance points.

One module per concern; the public names are all here (`from storage.services import tasks; tasks.post_task(...)`):
- `spec`: /发布任务's grammar, a TaskSpec read and checked;
- `posting`: posting, the open tasks, one task with its roster, cancelling a task; the task card notice;
- `signup`: signing up (Core, the evening peak's hot path) and cancelling a sign-up;
- `attendance`: check-in, a shared location and its distance, check-out, the time served;
- `closing`: closing and settlement, the weekly repeat, what is due for closing;
- `queries`: the facts the services return (TaskFacts, TaskView, addresses) and the lookups they share.

The services return facts and raise refusals as codes (`tasks.*`); the chat wording, the card included, is in
plugins/_texts/tasks.py.
"""

from storage.services.tasks.attendance import (
    CHECK_IN,
    CHECK_OUT,
    CheckIn,
    CheckOut,
    LocationCheck,
    attach_location,
    check_in,
    check_out,
    distance_m,
    minutes_served,
)
from storage.services.tasks.closing import (
    ClosedTask,
    TaskClosed,
    close_open_checkins,
    close_task,
    tasks_due_for_closing,
)
from storage.services.tasks.posting import (
    SIGNUP_BUTTON_COMMANDS,
    ButtonLabel,
    CancelledTask,
    PostedTask,
    RosterLine,
    TaskCancelled,
    TaskCard,
    TaskDetail,
    YourTaskCancelled,
    cancel_task,
    list_open_tasks,
    may_see_roster,
    post_task,
    signup_buttons,
    task_detail,
)
from storage.services.tasks.queries import (
    DEFAULT_RADIUS_M,
    GroupAddress,
    MemberAddress,
    TaskFacts,
    TaskHeading,
    TaskView,
    task_lock,
)
from storage.services.tasks.signup import (
    CancelSignupResult,
    MovedUpFromWaitingList,
    SignupResult,
    cancel_signup,
    signup_for_task,
)
from storage.services.tasks.spec import (
    KINDS,
    MAX_CAPACITY,
    MAX_POINTS,
    TaskSpec,
    check_kind,
    check_place,
    check_spec,
    parse_task_words,
)

__all__ = [
    "CHECK_IN",
    "CHECK_OUT",
    "DEFAULT_RADIUS_M",
    "KINDS",
    "MAX_CAPACITY",
    "MAX_POINTS",
    "SIGNUP_BUTTON_COMMANDS",
    "ButtonLabel",
    "CancelSignupResult",
    "CancelledTask",
    "CheckIn",
    "CheckOut",
    "ClosedTask",
    "GroupAddress",
    "LocationCheck",
    "MemberAddress",
    "MovedUpFromWaitingList",
    "PostedTask",
    "RosterLine",
    "SignupResult",
    "TaskCancelled",
    "TaskCard",
    "TaskClosed",
    "TaskDetail",
    "TaskFacts",
    "TaskHeading",
    "TaskSpec",
    "TaskView",
    "YourTaskCancelled",
    "attach_location",
    "cancel_signup",
    "cancel_task",
    "check_in",
    "check_kind",
    "check_out",
    "check_place",
    "check_spec",
    "close_open_checkins",
    "close_task",
    "distance_m",
    "list_open_tasks",
    "may_see_roster",
    "minutes_served",
    "parse_task_words",
    "post_task",
    "signup_buttons",
    "signup_for_task",
    "task_detail",
    "task_lock",
    "tasks_due_for_closing",
]
