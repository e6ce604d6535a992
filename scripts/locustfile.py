"""A realistic mix for `scripts/load` (FastHttpUser: the load generator shares the 2 cores,
so it must cost little per request): seekers browsing matches and postings, employers
listing candidates, caseworkers working the queue, and logins. Demo accounts only."""

import random
from typing import Any, ClassVar
from urllib.parse import urlencode

from locust import FastHttpUser, between, task
from locust.contrib.fasthttp import FastHttpSession

PASSWORD = "jobmatch-demo-2026"  # the printed demo password
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def log_in(client: FastHttpSession, email: str) -> Any:
    body = urlencode({"username": email, "password": PASSWORD})
    return client.post("/auth/token", data=body, headers=FORM, name="login")


class Role(FastHttpUser):
    abstract = True
    wait_time = between(0.5, 2.0)
    emails: ClassVar[tuple[str, ...]] = ()

    def on_start(self) -> None:
        email = random.choice(self.emails)
        r = log_in(self.client, email)
        self.headers = {"Authorization": f"Bearer {r.json().get('access_token', '')}"}
        me = self.client.get("/auth/me", headers=self.headers, name="me").json()
        self.account = me


class Seeker(Role):
    weight = 6
    emails = tuple(f"seeker{i:03d}@demo.jobmatch.cn" for i in range(1, 201))

    def on_start(self) -> None:
        super().on_start()
        r = self.client.get("/seekers/me", headers=self.headers, name="my profile")
        self.seeker_id = r.json().get("id") if r.status_code == 200 else None

    @task(5)
    def matches(self) -> None:
        if self.seeker_id:
            self.client.get(f"/seekers/{self.seeker_id}/matches?limit=20",
                            headers=self.headers, name="matches")

    @task(3)
    def postings(self) -> None:
        self.client.get("/postings?limit=20", headers=self.headers, name="postings")

    @task(1)
    def trainings(self) -> None:
        self.client.get("/trainings", headers=self.headers, name="trainings")


class Employer(Role):
    weight = 2
    emails = tuple(f"employer{i:02d}@demo.jobmatch.cn" for i in range(1, 51))

    @task(2)
    def own_postings(self) -> None:
        r = self.client.get(f"/postings?employer_id={self.account.get('employer_id')}&limit=5",
                            headers=self.headers, name="own postings")
        items = r.json().get("items", []) if r.status_code == 200 else []
        if items:
            self.client.get(f"/postings/{items[0]['id']}/candidates?limit=20",
                            headers=self.headers, name="candidates")

    @task(1)
    def received(self) -> None:
        self.client.get("/referrals/received", headers=self.headers, name="referrals received")


class Caseworker(Role):
    weight = 1
    emails = tuple(f"caseworker.{c}@demo.jobmatch.cn" for c in (
        "heping", "xinhua", "donghu", "xihu", "nanyuan", "beiguan", "changan", "wenhua",
        "binjiang"))

    @task(3)
    def queue(self) -> None:
        self.client.get("/referrals/queue", headers=self.headers, name="queue")

    @task(1)
    def seekers(self) -> None:
        self.client.get("/seekers?limit=20", headers=self.headers, name="centre seekers")


class Visitor(FastHttpUser):
    weight = 1
    wait_time = between(1.0, 3.0)

    @task
    def login(self) -> None:
        email = f"seeker{random.randint(1, 200):03d}@demo.jobmatch.cn"
        log_in(self.client, email)
