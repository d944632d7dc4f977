"""Four eyes over the whole review, and no case left that nobody can move: the review's
rules as one pure model (`domain.move`), walked by hypothesis over random sequences of
claim, assign, release, decide, request sign-off, return and approve by three auditors and
an operator. The same rules run against the real API in tests/audit/test_four_eyes.py."""

from __future__ import annotations

from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.audit import domain
from services.audit.domain import CaseState, Move, Review
from services.audit.errors import FourEyes, WrongState

AUDITORS = ("ana", "ben", "cleo")
OPERATOR = "olga"

ANYONE = (*AUDITORS, OPERATOR)


def allowed(review: Review) -> list[tuple[str, Move, str | None]]:
    return [(actor, action, target) for actor in AUDITORS for action in Move
            for target in (AUDITORS if action == Move.ASSIGN else (None,))
            if _ok(review, actor, action, target)]


def _ok(review: Review, actor: str, action: Move, target: str | None) -> bool:
    try:
        domain.move(review, actor, action, target=target)
    except (WrongState, FourEyes):
        return False
    return True


def reachable_completion(review: Review) -> bool:
    """Whether some sequence of allowed moves by the three auditors completes the review."""
    seen, todo = {review}, deque([review])
    while todo:
        r = todo.popleft()
        if r.state == CaseState.COMPLETED:
            return True
        for actor in AUDITORS:
            for action in Move:
                for target in AUDITORS if action == Move.ASSIGN else (None,):
                    try:
                        nxt = domain.move(r, actor, action, target=target)
                    except (WrongState, FourEyes):
                        continue
                    if nxt not in seen:
                        seen.add(nxt)
                        todo.append(nxt)
    return False


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_no_sequence_leaves_a_case_nobody_can_move_and_nobody_who_took_part_approves(data):
    """Each step is any action by anyone (mostly refused) or, half the time, one the rules
    allow (so long sequences reach deep states: every auditor having taken part, ...)."""
    review = Review()
    for _ in range(data.draw(st.integers(0, 40), label="steps")):
        if data.draw(st.booleans(), label="an allowed move"):
            actor, action, target = data.draw(st.sampled_from(allowed(review)))
        else:
            actor, action, target = data.draw(st.tuples(st.sampled_from(ANYONE), st.sampled_from(list(Move)),
                                                        st.sampled_from(AUDITORS)))
        try:
            after = domain.move(review, actor, action, is_auditor=actor != OPERATOR, target=target)
        except (WrongState, FourEyes):
            continue  # refused: nothing changed
        assert actor != OPERATOR, "operators read cases; they never act on them"
        if action == Move.APPROVE:
            assert actor not in review.deciders | review.requesters | {review.reviewer}
        review = after
        if review.state == CaseState.COMPLETED:
            return
        # Every state reached has someone who can move it on...
        assert allowed(review), review
        # ...and while an auditor took no part, the review can still be completed.
        if set(AUDITORS) - review.deciders - review.requesters:
            assert reachable_completion(review), review


def test_the_reported_deadlock_can_be_left():
    """Ben decides and requests sign-off, Ana returns it, Ben hands it back, Ana claims and
    requests sign-off without deciding: neither may approve or return it (both took part),
    but Ana, who holds it, can hand it back, and Cleo can then complete it."""
    r = Review()
    for actor, action in [("ben", Move.CLAIM), ("ben", Move.DECIDE), ("ben", Move.REQUEST), ("ana", Move.RETURN),
                          ("ben", Move.RELEASE), ("ana", Move.CLAIM), ("ana", Move.REQUEST)]:
        r = domain.move(r, actor, action)
    assert r.state == CaseState.SIGNOFF
    for who in ("ana", "ben"):
        for action in (Move.APPROVE, Move.RETURN):
            with pytest.raises(FourEyes):
                domain.move(r, who, action)
    assert ("ana", Move.RELEASE) in domain.movers(r, ["ana", "ben"])
    assert domain.move(r, "cleo", Move.APPROVE).state == CaseState.COMPLETED


def test_a_superseded_decider_and_an_earlier_requester_may_not_approve():
    with pytest.raises(FourEyes) as exc:
        domain.ensure_four_eyes("ana", reviewer="ben", decided_by=["ben", "ana"], requested_by=["ben"])
    assert exc.value.params["role"] == "decider"
    with pytest.raises(FourEyes) as exc:
        domain.ensure_four_eyes("ana", reviewer="ben", decided_by=["ben"], requested_by=["ana", "ben"])
    assert exc.value.params["role"] == "reviewer"
    domain.ensure_four_eyes("cleo", reviewer="ben", decided_by=["ben", "ana"], requested_by=["ana", "ben"])
