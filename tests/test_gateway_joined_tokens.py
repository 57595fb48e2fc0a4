"""The gateway joins the tokens of one network read into one event, losing nothing."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st
from sansio_chat.adapters.gateway._upstream import joined_tokens

from sansio_chat import Event, Finished, RateLimited, TokenEvent

tokens = st.builds(TokenEvent, text=st.text(min_size=1, max_size=5))
WAIT = RateLimited(delay=1.0, attempt=1, status=429, reason="")
others = st.sampled_from([Finished(reason="stop"), WAIT])
batches = st.lists(tokens | others, max_size=20)


def _text_runs(events: list[Event]) -> list[object]:
    """Each run of tokens as its text; other events as they are."""
    runs: list[object] = []
    for event in events:
        if isinstance(event, TokenEvent):
            if runs and isinstance(runs[-1], str):
                runs[-1] += event.text
                continue
            runs.append(event.text)
        else:
            runs.append(event)
    return runs


@given(batch=batches)
def test_runs_of_tokens_become_one_token_and_the_rest_keeps_its_order(batch: list[Event]) -> None:
    joined = list(joined_tokens(batch))
    assert _text_runs(joined) == _text_runs(batch)
    pairs = itertools.pairwise(joined)
    assert not any(isinstance(a, TokenEvent) and isinstance(b, TokenEvent) for a, b in pairs)


def test_a_lone_token_is_passed_as_it_is() -> None:
    token = TokenEvent(text="x")
    first, finished = joined_tokens([token, Finished(reason="stop")])
    assert first is token
    assert finished == Finished(reason="stop")
    assert list(joined_tokens([])) == []
