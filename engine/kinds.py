"""What the loader needs to know about a task kind, without its handler.

The `tasks/` library declares one `TaskKindSpec` per kind. The loader checks a
step's `params` against `params_schema` and resolves the references that the
spec declares (roles, durations, expressions); the engine later looks up the
handler by `name`. Keeping the spec as plain data keeps `engine/` free of any
import of `tasks/`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.definition import RoleKind


@dataclass(frozen=True)
class RoleParam:
    """A param whose value names a declared role.

    `kinds` limits which roles fit (empty = any role); `also_allowed` are
    fixed words that are not roles, such as `client` for a letter.
    """

    name: str
    kinds: frozenset[RoleKind] = frozenset()
    also_allowed: frozenset[str] = frozenset()


@dataclass(frozen=True)
class TaskKindSpec:
    """The contract of one automated step kind.

    `waits_for_answer`: the step parks until something outside completes it
    (a partner's answer, a moment in time); only such steps accept
    `timeout`/`on_timeout`. `answer_schema_param` names the param that holds
    the JSON Schema of the recorded answer, so `steps.<id>.<field>` and
    `form.<field>` can be checked like a human task's form.
    """

    name: str
    description: str
    params_schema: Mapping[str, Any]
    waits_for_answer: bool = False
    answer_schema_param: str | None = None
    role_params: tuple[RoleParam, ...] = ()
    duration_params: tuple[str, ...] = ()
    expression_params: tuple[str, ...] = ()
    # boolean params that, when true, handle country of birth (special-category data):
    # allowed only in a pathway with `origin_registration: true`
    origin_params: tuple[str, ...] = ()
