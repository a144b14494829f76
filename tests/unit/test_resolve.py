"""resolve_ref: exact name, then unique id prefix, then unique name prefix; ambiguity lists candidates."""

from __future__ import annotations

import pytest

from prompt_sessions.errors import AmbiguousSession, SessionNotFound
from prompt_sessions.models import SessionSummary
from prompt_sessions.resolve import MIN_ID_PREFIX, resolve_ref


def summary(sid: str, name: str) -> SessionSummary:
    return SessionSummary(
        id=sid,
        name=name,
        po_name="po",
        message_count=0,
        created_at="2025-01-01T00:00:00Z",
        updated_at="2025-01-01T00:00:00Z",
    )


A = summary("aaaa1111-0000-4000-8000-000000000001", "Debug task")
B = summary("aaaa2222-0000-4000-8000-000000000002", "Debugging")
C = summary("cafe0000-0000-4000-8000-000000000003", "cafe")  # a name that is also hex
D = summary("beef0000-0000-4000-8000-000000000004", "Notes")
ALL = [A, B, C, D]


def test_exact_name_wins() -> None:
    """An exact name match is taken even when it is also a prefix of other names."""
    assert resolve_ref("Debug task", ALL) is A


def test_a_name_that_is_also_an_id_prefix_is_ambiguous() -> None:
    """A name that looks like hex resolves to the session so named while no id starts with it;
    when another session's id does, the ref is ambiguous and both are named: an id prefix
    copied from `list` never silently reaches the session that bears it as a name."""
    assert resolve_ref("cafe", ALL) is C
    other = summary("cafe9999-0000-4000-8000-000000000005", "Other")
    with pytest.raises(AmbiguousSession) as info:
        resolve_ref("cafe", [C, other])
    assert {sid for sid, _ in info.value.candidates} == {C.id, other.id}
    assert resolve_ref("cafe9", [C, other]) is other
    assert resolve_ref(other.id, [C, other, summary(D.id, other.id)]) is other  # a whole id wins


def test_an_id_prefix_too_short_says_so() -> None:
    """Three hex digits that start an id are not an id prefix; the error says how many are
    needed instead of only that nothing matches."""
    with pytest.raises(SessionNotFound, match=f"at least {MIN_ID_PREFIX} characters"):
        resolve_ref(D.id[:3], ALL)
    with pytest.raises(SessionNotFound) as info:
        resolve_ref("zzz", ALL)
    assert "at least" not in str(info.value)


def test_unique_id_prefix_and_full_id() -> None:
    """A unique id prefix (at least four characters, any case) or a full id finds the session."""
    assert resolve_ref("beef", ALL) is D
    assert resolve_ref("BEEF00", ALL) is D
    assert resolve_ref(D.id, ALL) is D


def test_short_id_prefixes_are_not_ids() -> None:
    """Fewer than MIN_ID_PREFIX characters are never read as an id prefix."""
    assert MIN_ID_PREFIX == 4
    with pytest.raises(SessionNotFound):
        resolve_ref("bee", ALL)


def test_ambiguous_id_prefix_lists_candidates() -> None:
    """An id prefix shared by two sessions lists both."""
    with pytest.raises(AmbiguousSession) as info:
        resolve_ref("aaaa", ALL)
    assert sorted(info.value.candidates) == sorted([(A.id, A.name), (B.id, B.name)])
    assert "Debug task" in str(info.value) and "Debugging" in str(info.value)


def test_unique_name_prefix_case_insensitive() -> None:
    """A unique, case-insensitive name prefix finds the session; trimmed input too."""
    assert resolve_ref("debug t", ALL) is A
    assert resolve_ref("  NOT ", ALL) is D


def test_case_insensitive_exact_name_beats_longer_prefixes() -> None:
    """'debug task' (wrong case) picks "Debug task" even though "Debug task 2" also starts so."""
    longer = summary("dddd0000-0000-4000-8000-000000000006", "Debug task 2")
    assert resolve_ref("debug task", [A, longer]) is A


def test_ambiguous_name_prefix_lists_candidates() -> None:
    """A name prefix shared by several sessions raises AmbiguousSession with every candidate."""
    with pytest.raises(AmbiguousSession) as info:
        resolve_ref("Debug", ALL)
    assert {sid for sid, _ in info.value.candidates} == {A.id, B.id}


def test_duplicate_exact_names_are_ambiguous() -> None:
    """Two sessions with the same exact name are not silently chosen between."""
    twin = summary("eeee0000-0000-4000-8000-000000000007", "Notes")
    with pytest.raises(AmbiguousSession) as info:
        resolve_ref("Notes", [D, twin])
    assert len(info.value.candidates) == 2


def test_many_candidates_are_summarised() -> None:
    """Long candidate lists are cut to ten with a count of the rest."""
    many = [summary(f"{i:08x}-0000-4000-8000-000000000000", f"Same {i}") for i in range(15)]
    with pytest.raises(AmbiguousSession) as info:
        resolve_ref("Same", many)
    assert len(info.value.candidates) == 15
    assert "and 5 more" in str(info.value)


@pytest.mark.parametrize("ref", ["", "   ", "nothing", "../x", "/etc/passwd"])
def test_no_match_is_session_not_found(ref: str) -> None:
    """Blank, unknown and path-like references are SessionNotFound naming the PO."""
    with pytest.raises(SessionNotFound) as info:
        resolve_ref(ref, ALL, "coordinator")
    assert "coordinator" in str(info.value)


def test_empty_store() -> None:
    """Nothing resolves in an empty list."""
    with pytest.raises(SessionNotFound):
        resolve_ref("anything", [])


def test_an_ambiguous_ref_names_each_sessions_po_when_they_differ() -> None:
    """Two sessions of one name in two POs (a copy to another PO) look alike by name and id
    alone: the error names each one's PO; sessions of one PO are not given it."""
    import msgspec

    copy = msgspec.structs.replace(
        summary("bbbb0000-0000-4000-8000-000000000006", "Debug task"), po_name="reviewer"
    )
    with pytest.raises(AmbiguousSession) as info:
        resolve_ref("Debug task", [A, copy])
    assert str(info.value) == (
        "'Debug task' matches several sessions: 'Debug task' (aaaa1111 of po), "
        "'Debug task' (bbbb0000 of reviewer)"
    )
    assert info.value.candidates == [(A.id, A.name), (copy.id, copy.name)]
    with pytest.raises(AmbiguousSession) as same_po:
        resolve_ref("Debug", [A, B])
    assert "of po" not in str(same_po.value)
