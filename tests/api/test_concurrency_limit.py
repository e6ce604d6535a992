"""The service lets at most `request_threads` requests in at once, so the database pool
(sized for them) can never run dry with every thread waiting for a connection."""

import anyio
import pytest

from api.db import make_engine, pool_size_for
from api.middleware import ServiceMiddleware


def test_at_most_limit_requests_are_inside_at_once() -> None:
    inside = 0
    most = 0

    async def app(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        nonlocal inside, most
        inside += 1
        most = max(most, inside)
        await anyio.sleep(0.01)
        inside -= 1

    limited = ServiceMiddleware(app, limit=3, max_bytes=1000)  # type: ignore[arg-type]

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(limited, {"type": "http", "headers": []}, None, None)

    anyio.run(main)
    assert most == 3 and inside == 0


@pytest.mark.parametrize("threads", [1, 8, 16])
def test_the_pool_holds_two_connections_a_thread(threads: int, tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/pool.db", threads=threads)
    assert engine.pool.size() == pool_size_for(threads) >= 2 * threads  # type: ignore[attr-defined]
    engine.dispose()
