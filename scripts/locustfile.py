"""A realistic mix for `scripts/load` (FastHttpUser: the load generator shares the 2 cores,
so it must cost little per request): seekers browsing matches and postings, employers
listing candidates, caseworkers working the queue, and logins. Demo accounts only.

Each simulated user works in sessions as a person does: log in, a few dozen reads with a
pause between them, log out, log in again. A small share of visitors only log in, look at
their account and leave. When JOBMATCH_LOAD_SUMMARY names a file, the response times of the
authenticated reads and of the logins are summarised there (exact percentiles) at the end,
twice: over the whole run (ramp included) and over the steady state alone (the requests sent
from JOBMATCH_LOAD_SETTLE seconds after every user has been spawned, default 5, to the end;
`steady_*`, with `steady_started` on time.monotonic's clock, which every process shares).
"""

import json
import os
import random
import time
from typing import Any, ClassVar
from urllib.parse import urlencode

from locust import FastHttpUser, between, events, task
from locust.contrib.fasthttp import FastHttpSession

PASSWORD = "jobmatch-demo-2026"  # the printed demo password
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SESSION_REQUESTS = (20, 60)  # reads in one simulated session, chosen at random in this range
NOT_READS = frozenset({"login", "logout"})

_times: dict[str, list[float]] = {}
_failures: dict[str, int] = {}
_started = [0.0]
_steady = [float("inf")]  # when the steady state begins (monotonic), once spawning is done
SETTLE_SECONDS = float(os.environ.get("JOBMATCH_LOAD_SETTLE", "5"))


@events.test_start.add_listener
def _on_start(**_kw: Any) -> None:
    _started[0] = time.monotonic()


@events.spawning_complete.add_listener
def _on_spawned(**_kw: Any) -> None:
    _steady[0] = time.monotonic() + SETTLE_SECONDS


def _count(kind: str, response_time: float, exception: Any) -> None:
    _times.setdefault(kind, []).append(response_time)
    if exception is not None:
        _failures[kind] = _failures.get(kind, 0) + 1


@events.request.add_listener
def _on_request(name: str, response_time: float, exception: Any = None, **_kw: Any) -> None:
    kind = name if name in NOT_READS else "read"
    kinds = [kind, "match"] if name == "matches" else [kind]
    # A request counts in the steady state when it was sent after the steady state began.
    steady = time.monotonic() - response_time / 1000 >= _steady[0]
    for k in kinds:
        _count(k, response_time, exception)
        if steady:
            _count("steady_" + k, response_time, exception)


def _percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


@events.test_stop.add_listener
def _on_stop(**_kw: Any) -> None:
    path = os.environ.get("JOBMATCH_LOAD_SUMMARY")
    if not path:
        return
    ended = time.monotonic()
    summary: dict[str, Any] = {"steady_started": _steady[0], "ended": ended}
    for kind in ("read", "login", "logout", "match"):
        for key, began in ((kind, _started[0]), ("steady_" + kind, _steady[0])):
            ordered = sorted(_times.get(key, []))
            elapsed = max(ended - began, 1e-9)
            summary[key] = {
                "count": len(ordered),
                "rps": round(len(ordered) / elapsed, 1),
                "failures": _failures.get(key, 0),
                **{f"p{int(q * 100)}_ms": _percentile(ordered, q) for q in (0.5, 0.95, 0.99)},
            }
    with open(path, "w") as out:
        json.dump(summary, out)


def log_in(client: FastHttpSession, email: str) -> dict[str, str]:
    """The bearer header of a new session (an empty token when the login failed: counted as
    a failure by locust, and the requests that follow are answered 401 and counted too)."""
    body = urlencode({"username": email, "password": PASSWORD})
    r = client.post("/auth/token", data=body, headers=FORM, name="login")
    token = r.json().get("access_token", "") if r.status_code == 200 else ""
    return {"Authorization": f"Bearer {token}"}


class Role(FastHttpUser):
    abstract = True
    wait_time = between(0.5, 2.0)
    emails: ClassVar[tuple[str, ...]] = ()
    turns: ClassVar[dict[str, int]] = {}

    def on_start(self) -> None:
        self.begin_session()

    @classmethod
    def next_account(cls) -> str:
        """The demo accounts of this role in turn, so that the people signed in at once are
        spread over every account as real ones are (one person, one account; a random choice
        piled several simulated people onto one account, past its per-account limits)."""
        turn = cls.turns.get(cls.__name__, 0)
        cls.turns[cls.__name__] = turn + 1
        return cls.emails[turn % len(cls.emails)]

    def begin_session(self) -> None:
        email = self.next_account()
        self.headers = log_in(self.client, email)
        r = self.client.get("/auth/me", headers=self.headers, name="me")
        self.account = r.json() if r.status_code == 200 else {}
        self.left = random.randint(*SESSION_REQUESTS)

    def next_read(self) -> None:
        """Counts a read of this session; past the session's length, log out and back in."""
        self.left -= 1
        if self.left < 0:
            self.client.post("/auth/logout", headers=self.headers, name="logout")
            self.begin_session()


class Seeker(Role):
    weight = 6
    emails = tuple(f"seeker{i:03d}@demo.jobmatch.cn" for i in range(1, 201))

    def begin_session(self) -> None:
        super().begin_session()
        r = self.client.get("/seekers/me", headers=self.headers, name="my profile")
        self.seeker_id = r.json().get("id") if r.status_code == 200 else None

    @task(5)
    def matches(self) -> None:
        self.next_read()
        if self.seeker_id:
            self.client.get(f"/seekers/{self.seeker_id}/matches?limit=20",
                            headers=self.headers, name="matches")

    @task(3)
    def postings(self) -> None:
        self.next_read()
        self.client.get("/postings?limit=20", headers=self.headers, name="postings")

    @task(1)
    def trainings(self) -> None:
        self.next_read()
        self.client.get("/trainings", headers=self.headers, name="trainings")


class Employer(Role):
    weight = 2
    emails = tuple(f"employer{i:02d}@demo.jobmatch.cn" for i in range(1, 51))

    @task(2)
    def own_postings(self) -> None:
        self.next_read()
        r = self.client.get(f"/postings?employer_id={self.account.get('employer_id')}&limit=5",
                            headers=self.headers, name="own postings")
        items = r.json().get("items", []) if r.status_code == 200 else []
        if items:
            self.client.get(f"/postings/{items[0]['id']}/candidates?limit=20",
                            headers=self.headers, name="candidates")

    @task(1)
    def received(self) -> None:
        self.next_read()
        self.client.get("/referrals/received", headers=self.headers, name="referrals received")


class Caseworker(Role):
    weight = 1
    emails = tuple(f"caseworker.{c}@demo.jobmatch.cn" for c in (
        "heping", "xinhua", "donghu", "xihu", "nanyuan", "beiguan", "changan", "wenhua",
        "binjiang"))

    @task(3)
    def queue(self) -> None:
        self.next_read()
        self.client.get("/referrals/queue", headers=self.headers, name="queue")

    @task(1)
    def seekers(self) -> None:
        self.next_read()
        self.client.get("/seekers?limit=20", headers=self.headers, name="centre seekers")


class Visitor(FastHttpUser):
    """Someone who logs in, checks their account and leaves (a short session)."""

    weight = 1
    wait_time = between(5.0, 15.0)

    @task
    def visit(self) -> None:
        email = f"seeker{random.randint(1, 200):03d}@demo.jobmatch.cn"
        headers = log_in(self.client, email)
        self.client.get("/auth/me", headers=headers, name="me")
        self.client.post("/auth/logout", headers=headers, name="logout")
