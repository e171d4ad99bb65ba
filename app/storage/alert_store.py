"""Alert rules and fired alerts on SQLite (tables of revision 0006).

``alert_rules.fired`` is the once-per-crossing memory: it survives restarts, so an alert that
fired before the app was closed does not fire again when it starts while the condition holds.
Firing is a conditional update (``WHERE fired = 0``) in the same transaction as its event, so
two checks racing (window and a cron ``refresh --once``) cannot both fire one crossing.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.engine import Row

from app.domain.alerts import AlertEvent, AlertKind, AlertRule
from app.storage.tables import alert_events, alert_rules

KEEP_EVENTS = 1000


def _rule(row: Row[tuple[object, ...]]) -> AlertRule:
    m = row._mapping
    return AlertRule(
        id=int(m["id"]),
        kind=AlertKind(m["kind"]),
        target=str(m["target"]),
        threshold=Decimal(m["threshold"]),
        enabled=bool(m["enabled"]),
        fired=bool(m["fired"]),
        created_at=int(m["created_at"]),
        last_fired_at=None if m["last_fired_at"] is None else int(m["last_fired_at"]),
    )


class SqlAlertStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, kind: AlertKind, target: str, threshold: Decimal, now: int) -> AlertRule:
        with self._engine.begin() as con:
            result = con.execute(
                insert(alert_rules).values(
                    kind=kind.value,
                    target=target,
                    threshold=str(threshold),
                    enabled=True,
                    fired=False,
                    created_at=now,
                )
            )
            rule_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        rule = self.get(rule_id)
        assert rule is not None
        return rule

    def get(self, rule_id: int) -> AlertRule | None:
        with self._engine.connect() as con:
            row = con.execute(select(alert_rules).where(alert_rules.c.id == rule_id)).fetchone()
        return None if row is None else _rule(row)

    def rules(self) -> list[AlertRule]:
        with self._engine.connect() as con:
            rows = con.execute(select(alert_rules).order_by(alert_rules.c.id)).fetchall()
        return [_rule(r) for r in rows]

    def remove(self, rule_id: int) -> bool:
        """The rule and its fired alerts (foreign key cascade, deleted explicitly as well)."""
        with self._engine.begin() as con:
            con.execute(delete(alert_events).where(alert_events.c.rule_id == rule_id))
            result = con.execute(delete(alert_rules).where(alert_rules.c.id == rule_id))
        return bool(result.rowcount)

    def set_enabled(self, rule_id: int, enabled: bool) -> bool:
        """Switching a rule on or off re-arms it: once enabled, a condition already true fires."""
        with self._engine.begin() as con:
            result = con.execute(
                update(alert_rules)
                .where(alert_rules.c.id == rule_id)
                .values(enabled=enabled, fired=False)
            )
        return bool(result.rowcount)

    def apply(
        self, now: int, fire: Sequence[tuple[int, str]], rearm: Sequence[int]
    ) -> list[AlertEvent]:
        """Record one check: rules that fired (with their messages) and rules that re-armed.

        Returns the events actually written: a rule already marked fired is skipped.
        """
        events: list[AlertEvent] = []
        with self._engine.begin() as con:
            if rearm:
                con.execute(
                    update(alert_rules).where(alert_rules.c.id.in_(rearm)).values(fired=False)
                )
            for rule_id, message in fire:
                result = con.execute(
                    update(alert_rules)
                    .where(
                        alert_rules.c.id == rule_id,
                        alert_rules.c.fired.is_(False),
                        alert_rules.c.enabled.is_(True),
                    )
                    .values(fired=True, last_fired_at=now)
                )
                if not result.rowcount:
                    continue
                inserted = con.execute(
                    insert(alert_events).values(rule_id=rule_id, fired_at=now, message=message)
                )
                event_id = int(inserted.inserted_primary_key[0])  # type: ignore[index]
                events.append(AlertEvent(event_id, rule_id, now, message))
            if events:
                newest = select(alert_events.c.id).order_by(alert_events.c.id.desc())
                con.execute(
                    delete(alert_events).where(
                        alert_events.c.id.not_in(newest.limit(KEEP_EVENTS).scalar_subquery())
                    )
                )
        return events

    def events(self, limit: int = 100) -> list[AlertEvent]:
        """Fired alerts, newest first."""
        with self._engine.connect() as con:
            rows = con.execute(
                select(alert_events)
                .order_by(alert_events.c.fired_at.desc(), alert_events.c.id.desc())
                .limit(limit)
            ).fetchall()
        return [
            AlertEvent(int(r.id), int(r.rule_id), int(r.fired_at), str(r.message)) for r in rows
        ]
