"""The picker cuts a long name before its "(...)" mark, so a fork made by /rewind is told from
its original on a narrow screen (DESIGN section 14)."""

from __future__ import annotations

from .conftest import at, fixed_session
from .test_picker import open_picker, rows

LONG = "Plan the 1.0 release with the whole team and the two reviewers"


async def test_a_forks_mark_stays_in_sight_when_the_name_is_cut(make_ctx, make_app):
    """At 60 columns both names are cut; the fork's row still ends its name with
    "(before rewind)", and the pin of a pinned fork comes before it."""
    ctx = make_ctx()
    fixed_session(ctx, "a", "coordinator", LONG, [("user", "hi")], at(3, 14, 30))
    fixed_session(ctx, "b", "coordinator", f"{LONG} (before rewind)", [], at(3, 14, 0), pinned=True)
    app = make_app(ctx)
    async with app.run_test(size=(60, 24)) as pilot:
        await open_picker(pilot)
        fork, original = rows(app)[:2]
        assert fork.startswith("  📌 Plan the 1.0 release with the") and "… (before rewind)" in fork
        assert "(before rewind)" not in original and "…" in original
