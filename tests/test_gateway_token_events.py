"""The gateway's per-token event equals the general chunk encoder's, for any text and ids."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from sansio_chat.adapters.gateway._openai import chunk_event, token_events

texts = st.text(st.characters(codec="utf-8"), max_size=50) | st.sampled_from(
    [
        "",
        "\x00token\x00",
        '"',
        "\\",
        "\n\r\u2028",
        "😀",
        "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
    ]
)


@given(text=texts, completion_id=texts, model=texts, created=st.integers(0, 2**40))
def test_a_token_event_equals_the_chunk_encoder(
    text: str, completion_id: str, model: str, created: int
) -> None:
    event = token_events(completion_id=completion_id, created=created, model=model)
    expected = chunk_event(
        completion_id=completion_id, created=created, model=model, delta={"content": text}
    )
    assert event(text) == expected
