"""Who holds a stream: counted here, and taken from what other processes say of theirs."""

from __future__ import annotations

import json
import time

import pytest

from hubbub.events.bus import Hub
from hubbub.realtime.presence import LAPSES_AFTER, Board
from tests.support.brokers import OURS, Recording

INTERVAL = 0.05


@pytest.fixture
def board(bus: Recording) -> Board:
    board = Board(bus, INTERVAL)
    bus.observe("streams", board.heard)
    return board


def news(bus: Recording) -> list[dict[str, object]]:
    """What the board told other processes, without the stamps."""
    told = [
        {k: v for k, v in m.items() if k not in ("origin", "deployment")}
        for m in bus.sent
        if m["kind"] == "streams"
    ]
    bus.sent.clear()
    return told


def from_elsewhere(bus: Recording, origin: str, **news: object) -> None:
    bus.receive(json.dumps({"kind": "streams", "origin": origin, "deployment": OURS, **news}))


def test_a_users_first_and_last_stream_here_are_told_as_one_change_each(
    bus: Recording, board: Board
) -> None:
    assert board.opened(7) is True
    assert board.opened(7) is False
    assert news(bus) == [{"kind": "streams", "opened": 7}]
    assert board.closed(7) is False
    assert news(bus) == []
    assert board.closed(7) is True
    assert news(bus) == [{"kind": "streams", "closed": 7}]
    assert not board.is_online(7)


def test_the_whole_list_goes_out_on_its_own(bus: Recording, board: Board) -> None:
    board.opened(3)
    board.opened(1)
    news(bus)
    board.tell_others()
    assert news(bus) == [{"kind": "streams", "users": [1, 3]}]


def test_a_user_with_a_stream_elsewhere_is_online_and_does_not_go_offline_here(
    bus: Recording, board: Board
) -> None:
    from_elsewhere(bus, "process-b", users=[5])
    from_elsewhere(bus, "process-b", opened=6)
    assert board.is_online(5) and board.is_online(6)
    board.opened(5)
    assert board.closed(5) is False, "still online on process b"
    from_elsewhere(bus, "process-b", closed=5)
    assert not board.is_online(5)
    assert board.is_online(6)
    # A full list replaces what that process said before.
    from_elsewhere(bus, "process-b", users=[8])
    assert not board.is_online(6) and board.is_online(8)


def test_a_process_that_falls_silent_lapses_and_its_users_go_offline(
    bus: Recording, board: Board
) -> None:
    from_elsewhere(bus, "process-b", users=[5, 6])
    from_elsewhere(bus, "process-c", users=[6])
    board.opened(5)
    assert board.lapse() == set()
    time.sleep(LAPSES_AFTER * INTERVAL * 1.5)
    from_elsewhere(bus, "process-c", users=[6])  # c still speaks; b has lapsed
    assert board.lapse() == set(), "5 holds a stream here, 6 one on process c"
    assert board.is_online(5) and board.is_online(6)
    time.sleep(LAPSES_AFTER * INTERVAL * 1.5)
    assert not board.is_online(6)
    assert board.lapse() == {6}
    assert board.lapse() == set(), "told once"


def test_our_own_news_is_not_taken_for_another_process(bus: Recording, board: Board) -> None:
    board.opened(4)
    board.closed(4)
    bus.publish({"kind": "streams", "users": [9]})  # our own, as the bus echoes it
    assert not board.is_online(9)


def test_news_of_streams_reaches_observers_but_wakes_no_reader() -> None:
    hub = Hub()
    observed: list[object] = []
    hub.observe("streams", observed.append)
    reader = hub.subscribe()
    hub.deliver({"kind": "streams", "users": [1]})
    assert observed == [{"kind": "streams", "users": [1]}]
    assert reader.wait(0) == []


def test_a_board_with_no_other_process_tells_nobody() -> None:
    hub = Hub()
    told: list[object] = []
    hub.observe("streams", told.append)
    board = Board(hub, INTERVAL)
    board.opened(1)
    board.tell_others()
    board.closed(1)
    assert told == []
