"""Each KIE family's status vocabulary, mapped to one internal `TaskState`.

Market says ``waiting/queuing/generating/success/fail``, Runway-style pages spell
``wait/queueing``, Veo reports ``successFlag`` 0–3 and Suno ``PENDING … SUCCESS`` plus
several ``*_FAILED`` words (API.md §7 row 16). An unknown word maps to ``generating``
with a warning: a new KIE status must not crash polling, and the pipeline's deadline
still ends a task that never finishes.
"""

from __future__ import annotations

import logging
from enum import StrEnum

logger = logging.getLogger(__name__)


class TaskState(StrEnum):
    WAITING = "waiting"
    QUEUING = "queuing"
    GENERATING = "generating"
    SUCCESS = "success"
    FAIL = "fail"

    @property
    def is_final(self) -> bool:
        return self in (TaskState.SUCCESS, TaskState.FAIL)


_MARKET = {
    "waiting": TaskState.WAITING,
    "wait": TaskState.WAITING,
    "pending": TaskState.WAITING,
    "queuing": TaskState.QUEUING,
    "queueing": TaskState.QUEUING,
    "generating": TaskState.GENERATING,
    "processing": TaskState.GENERATING,
    "success": TaskState.SUCCESS,
    "fail": TaskState.FAIL,
    "failed": TaskState.FAIL,
}

# Veo/Flux/MJ: 0 generating, 1 success, 2 task creation failed, 3 generation failed.
_VEO = {0: TaskState.GENERATING, 1: TaskState.SUCCESS, 2: TaskState.FAIL, 3: TaskState.FAIL}

_SUNO = {
    "PENDING": TaskState.WAITING,
    "TEXT_SUCCESS": TaskState.GENERATING,
    "FIRST_SUCCESS": TaskState.GENERATING,
    "SUCCESS": TaskState.SUCCESS,
    "CREATE_TASK_FAILED": TaskState.FAIL,
    "GENERATE_AUDIO_FAILED": TaskState.FAIL,
    "CALLBACK_EXCEPTION": TaskState.FAIL,
    "SENSITIVE_WORD_ERROR": TaskState.FAIL,
}


def market_state(value: object) -> TaskState:
    """Market (and Runway-spelled) ``state`` strings."""
    if isinstance(value, str) and value.strip().lower() in _MARKET:
        return _MARKET[value.strip().lower()]
    return _unknown("market", value)


def veo_state(success_flag: object) -> TaskState:
    """Veo ``successFlag``; a record without one yet is still waiting."""
    if success_flag is None or success_flag == "":
        return TaskState.WAITING
    try:
        flag = int(str(success_flag))
    except ValueError:
        return _unknown("veo", success_flag)
    return _VEO.get(flag) or _unknown("veo", success_flag)


def suno_state(status: object) -> TaskState:
    """Suno ``status`` words; any other ``*_FAILED``/``*_ERROR`` is a failure."""
    if not isinstance(status, str):
        return _unknown("suno", status)
    word = status.strip().upper()
    if word in _SUNO:
        return _SUNO[word]
    if word.endswith(("_FAILED", "_ERROR")):
        return TaskState.FAIL
    return _unknown("suno", status)


def _unknown(family: str, value: object) -> TaskState:
    logger.warning("unknown KIE %s task status %r; treating it as generating", family, value)
    return TaskState.GENERATING
