"""The service lets at most `request_threads` requests whose database work runs on worker
threads in at once, so the database pool (sized for them) can never run dry with every thread
waiting for a connection; reads that run wholly on the event loop never wait for them."""

import threading

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.db import make_engine, pool_size_for
from api.deps import SessionGate
from api.settings import Settings
from tests import factories as f


def test_at_most_limit_requests_are_inside_at_once() -> None:
    gate = SessionGate(3)
    inside = 0
    most = 0

    async def request() -> None:
        nonlocal inside, most
        await gate.enter()
        try:
            inside += 1
            most = max(most, inside)
            await anyio.sleep(0.01)
            inside -= 1
        finally:
            gate.leave()

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(request)

    anyio.run(main)
    assert most == 3 and inside == 0 and gate.inside == 0


def test_reads_on_the_event_loop_pass_a_full_gate(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """Logins and writes in progress hold every place: a read that needs none still answers,
    and a write waits until a place is free."""
    acc, profile = f.seeker(session)
    headers = f.headers(session, settings, acc)
    gate: SessionGate = client.app.state.session_gate  # type: ignore[attr-defined]
    portal = client.portal  # type: ignore[attr-defined]
    for _ in range(gate.limit):
        portal.call(gate.enter)
    answered: list[int] = []
    read_answers: list[int] = []
    write = threading.Thread(
        target=lambda: answered.append(client.post("/auth/logout", headers=headers).status_code)
    )
    try:
        assert gate.inside == gate.limit
        paths = ("/auth/me", "/seekers/me", f"/seekers/{profile.id}/matches", "/postings")
        read = threading.Thread(
            target=lambda: read_answers.extend(
                client.get(p, headers=headers).status_code for p in paths
            )
        )
        read.start()
        read.join(30)  # a read made to wait for a place would wait until `finally`
        assert read_answers == [200] * len(paths)
        write.start()
        write.join(0.5)
        assert not answered  # waiting for a place
    finally:
        for _ in range(gate.limit):
            portal.call(gate.leave)
    write.join(30)
    assert answered == [204] and gate.inside == 0


@pytest.mark.parametrize("threads", [1, 8, 16])
def test_the_pool_holds_two_connections_a_thread(threads: int, tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/pool.db", threads=threads)
    assert engine.pool.size() == pool_size_for(threads) >= 2 * threads  # type: ignore[attr-defined]
    engine.dispose()
