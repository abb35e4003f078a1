"""Operator controls and the audit log on SQLite and Postgres."""

from __future__ import annotations

from trt.records import Maintenance, NewAction
from trt.store.sql import SqlStore

MODEL = "google/nano-banana"


def act(name: str, subject: str | None = MODEL, reason: str | None = None) -> NewAction:
    return NewAction("cli:ops", name, subject, reason)


class TestControls:
    async def test_an_empty_database_sells_everything(self, store: SqlStore) -> None:
        """No override and no maintenance row: nothing disabled, no own markup, not paused."""
        state = await store.controls.state()
        assert state.overrides == {}
        assert state.maintenance == Maintenance()

    async def test_disable_keeps_the_reason_and_the_markup(self, store: SqlStore) -> None:
        """Disabling leaves the markup alone; enabling drops the reason."""
        await store.controls.set_markup(MODEL, "1.8", action=act("model.markup"))
        off = await store.controls.set_disabled(
            MODEL, True, reason="KIE broken", action=act("model.disable")
        )
        assert (off.disabled, off.reason, off.markup, off.updated_by) == (
            True, "KIE broken", "1.8", "cli:ops",
        )  # fmt: skip
        assert (await store.controls.state()).overrides[MODEL] == off
        on = await store.controls.set_disabled(MODEL, False, reason=None, action=act("x"))
        assert (on.disabled, on.reason, on.markup) == (False, None, "1.8")

    async def test_markup_reset_returns_to_the_global_one(self, store: SqlStore) -> None:
        """A None markup is stored as none: the model sells at PRICE_MARKUP again."""
        await store.controls.set_markup(MODEL, "2", action=act("model.markup"))
        await store.controls.set_markup(MODEL, None, action=act("model.markup_reset"))
        assert (await store.controls.state()).overrides[MODEL].markup is None

    async def test_maintenance_switch_and_message(self, store: SqlStore) -> None:
        """On with a message, then off: the message goes with it."""
        on = await store.controls.set_maintenance(
            True, message="back at 10", action=act("maintenance.on", None)
        )
        assert (await store.controls.state()).maintenance == on
        assert (on.on, on.message, on.by) == (True, "back at 10", "cli:ops")
        await store.controls.set_maintenance(False, message="x", action=act("m.off", None))
        state = (await store.controls.state()).maintenance
        assert (state.on, state.message) == (False, None)

    async def test_every_change_is_audited_newest_first(self, store: SqlStore) -> None:
        """Each change writes one audit row with who, what, on what and why."""
        await store.controls.set_disabled(
            MODEL, True, reason="r1", action=act("model.disable", reason="r1")
        )
        await store.controls.set_markup(
            MODEL, "1.8", action=NewAction("tg:9", "model.markup", MODEL, None, {"markup": "1.8"})
        )
        await store.controls.record(NewAction("tg:9", "user.ban", "42", "spam"))
        actions = await store.controls.actions(limit=10)
        assert [(a.actor, a.action, a.subject, a.reason) for a in actions] == [
            ("tg:9", "user.ban", "42", "spam"),
            ("tg:9", "model.markup", MODEL, None),
            ("cli:ops", "model.disable", MODEL, "r1"),
        ]
        assert actions[1].detail == {"markup": "1.8"}
        assert actions[0].at >= actions[2].at
        assert len(await store.controls.actions(limit=2)) == 2

    async def test_hostile_text_is_stored_not_refused(self, store: SqlStore) -> None:
        """NUL in a reason and over-long actors and subjects are made storable (Postgres
        refuses NUL and over-long VARCHARs), never a failed write."""
        long_actor = "cli:" + "x" * 100
        await store.controls.set_disabled(
            MODEL, True, reason="bad\x00byte", action=NewAction(long_actor, "model.disable", MODEL)
        )
        await store.controls.record(
            NewAction("tg:1", "user.ban", "s" * 500, "a\x00b", {"k": "\x00"})
        )
        off = (await store.controls.state()).overrides[MODEL]
        assert (off.reason, len(off.updated_by)) == ("bad\ufffdbyte", 64)
        latest = (await store.controls.actions(limit=1))[0]
        assert (len(latest.subject or ""), latest.reason, latest.detail) == (
            128, "a\ufffdb", {"k": "\ufffd"},
        )  # fmt: skip
