"""CPU of the service per request, route by route: one service process on PostgreSQL (the
database scripts/load made, or a fresh one with --fresh), the demo accounts logged in, then
each route of the load mix asked N times, 8 at a time; prints one JSON object of
milliseconds of the process's CPU a request (not PostgreSQL's, not this client's)."""

import argparse
import asyncio
import json
import os
from typing import Any

import httpx
import psutil
from load import (  # scripts/load.py, beside this file
    cpu_seconds,
    fill_database,
    running_service,
    service_env,
)

PASSWORD = "jobmatch-demo-2026"  # the printed demo password
Request = tuple[dict[str, str] | None, str]


async def _routes(client: httpx.AsyncClient) -> dict[str, list[Request]]:
    async def login(email: str) -> dict[str, str]:
        r = await client.post("/auth/token", data={"username": email, "password": PASSWORD})
        r.raise_for_status()
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    seekers = [await login(f"seeker{i:03d}@demo.jobmatch.cn") for i in range(1, 41)]
    seeker_ids = [(await client.get("/seekers/me", headers=h)).json()["id"] for h in seekers]
    employers = [await login(f"employer{i:02d}@demo.jobmatch.cn") for i in range(1, 11)]
    employer_ids = [
        (await client.get("/auth/me", headers=h)).json()["employer_id"] for h in employers
    ]
    own = [f"/postings?employer_id={e}&limit=5" for e in employer_ids]
    postings = [
        (await client.get(u, headers=h)).json()["items"]
        for h, u in zip(employers, own, strict=True)
    ]
    staff = [
        await login(f"caseworker.{c}@demo.jobmatch.cn") for c in ("heping", "xinhua", "donghu")
    ]
    return {
        "login": [(None, "login")],
        "me": [(h, "/auth/me") for h in seekers],
        "my profile": [(h, "/seekers/me") for h in seekers],
        "matches": [
            (h, f"/seekers/{s}/matches?limit=20") for h, s in zip(seekers, seeker_ids, strict=True)
        ],
        "postings": [(h, "/postings?limit=20") for h in seekers],
        "trainings": [(h, "/trainings") for h in seekers],
        "own postings": list(zip(employers, own, strict=True)),
        "candidates": [
            (h, f"/postings/{items[0]['id']}/candidates?limit=20")
            for h, items in zip(employers, postings, strict=True)
            if items
        ],
        "referrals received": [(h, "/referrals/received") for h in employers],
        "queue": [(h, "/referrals/queue") for h in staff],
        "centre seekers": [(h, "/seekers?limit=20") for h in staff],
    }


async def _measure(base: str, processes: list[psutil.Process], n: int) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        routes = await _routes(client)
        out: dict[str, float] = {}
        for name, requests in routes.items():

            async def one(i: int, requests: list[Request] = requests) -> None:
                headers, url = requests[i % len(requests)]
                if url == "login":
                    email = f"seeker{i % 200 + 1:03d}@demo.jobmatch.cn"
                    r = await client.post(
                        "/auth/token", data={"username": email, "password": PASSWORD}
                    )
                else:
                    r = await client.get(url, headers=headers)
                if r.status_code != 200:
                    raise SystemExit(f"{url} answered {r.status_code}: {r.text[:200]}")

            async def batch(count: int) -> None:
                gate = asyncio.Semaphore(8)

                async def go(i: int) -> None:
                    async with gate:
                        await one(i)

                await asyncio.gather(*(go(i) for i in range(count)))

            count = max(20, n // 10) if name == "login" else n
            await batch(min(count, 40))  # warm: first views, kept pages, connections
            before = cpu_seconds(processes)
            await batch(count)
            out[name] = round(1000 * (cpu_seconds(processes) - before) / count, 2)
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "JOBMATCH_LOAD_DATABASE_URL",
            "postgresql+psycopg://postgres@127.0.0.1:5432/jobmatch_load",
        ),
    )
    parser.add_argument("--fresh", action="store_true", help="recreate and fill the database")
    parser.add_argument("-n", "--requests", type=int, default=300, help="per route")
    args = parser.parse_args()
    env = service_env(args.database_url)
    if args.fresh:
        fill_database(args.database_url, env)
    with running_service(env, 1) as (server, base):
        process = psutil.Process(server.pid)
        processes: list[Any] = [process, *process.children(recursive=True)]
        print(json.dumps(asyncio.run(_measure(base, processes, args.requests))))

if __name__ == "__main__":
    main()
