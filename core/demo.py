"""`huifang demo`: a realistic, seeded data set. Each enabled plugin adds its vertical through the
`huifang_demo` hook (helpers in plugin_api.demo: `work()` plays operators through follow-ups with a
plausible outcome mix); then `tick` brings the store to now."""
from __future__ import annotations

import random
import time as _time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from . import clock
from .errors import HuifangError
from .timers import tick

if TYPE_CHECKING:
    from .application import HuifangApp


def build_demo(app: HuifangApp, subjects: int = 300, days: int = 90, seed: int = 7) -> dict[str, Any]:
    t0 = _time.perf_counter()
    end = clock.now()
    start = end - timedelta(days=days)
    with clock.at(start - timedelta(days=1)):
        app.read_side.ensure()
    plugins = list(app.registry.plugins)
    results = []
    active = [p for p in plugins if app.registry.pm.get_plugin(p) is not None and
              hasattr(app.registry.pm.get_plugin(p), "huifang_demo")]
    if not active:
        raise HuifangError("demo: no enabled plugin contributes demo data")
    share = max(1, subjects // len(active))
    for name in active:
        r = app.registry.call(name, "huifang_demo", app=app, rng=random.Random(f"{seed}:{name}"), start=start,
                              end=end, size=share)
        if r:
            results.append({"plugin": name, **r})
    with clock.at(end):
        ticked = tick(app)
        app.read_side.catch_up()
    seconds = _time.perf_counter() - t0
    head = app.recorder.max_notification_id() or 0
    lines = [f"demo built in {seconds:.1f} s: {app.store.url} ({head} events), now {clock.iso(end)}"]
    for r in results:
        lines.append("  " + r["plugin"] + ": " + ", ".join(f"{k} {v}" for k, v in r.items() if k != "plugin"))
    lines.append(f"  tick: opened {ticked['opened']}, reminded {ticked['reminded']}, overdue {ticked['overdue']}, "
                 f"locked {ticked['locked']}")
    lines.append(f"try: huifang --db {app.store.url} --now {end.isoformat()} queue")
    return {"store": app.store.url, "events": head, "seconds": round(seconds, 2), "plugins": results,
            "tick": {k: v for k, v in ticked.items() if k != "reminders"}, "now": clock.iso(end),
            "summary": "\n".join(lines)}
