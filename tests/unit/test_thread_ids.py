"""Thread ids: one generator for the Python API and the chat."""

from __future__ import annotations

import re
import time

from crossroads.threads import new_thread_id


def test_a_thread_id_is_dated_and_random() -> None:
    ids = {new_thread_id() for _ in range(1000)}
    assert len(ids) == 1000
    for thread_id in ids:
        assert re.fullmatch(r"\d{8}-[0-9a-f]{12}", thread_id)
    assert min(ids)[:8] <= time.strftime("%Y%m%d") <= max(ids)[:8]


def test_the_api_and_the_chat_use_it() -> None:
    from crossroads import api
    from crossroads.cli import chat

    assert api.new_thread_id is new_thread_id
    assert chat.new_thread_id is new_thread_id
