"""Write a postings import file (docs/import.md) of N rows for tests and benchmarks.

Mixed Chinese and English text, employers from a fixed list of credit codes
(`employer_usccs(k)`), accommodation offers from the seeded vocabulary; optionally a share of
bad rows (unknown codes, wages out of order) and of duplicate external ids. Streams: memory
does not grow with N.

Usage: python scripts/make_import_file.py OUT [--rows 50000] [--format csv|jsonl]
       [--encoding utf-8|gb18030] [--employers 50] [--bad 0.0] [--duplicates 0.0] [--seed 7]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.uscc import check_char  # noqa: E402

TITLES = [
    ("数据录入员", "Data entry clerk", ["Excel", "数据录入"]),
    ("客服专员", "Customer service agent", ["打字", "沟通", "English"]),
    ("仓库助理", "Warehouse assistant", ["packing", "盘点"]),
    ("图书馆助理", "Library assistant", ["整理", "shelving"]),
    ("平面设计", "Graphic designer", ["Photoshop", "排版"]),
    ("软件测试", "Software tester", ["Python", "测试用例"]),
    ("收银员", "Cashier", ["收银", "cash handling"]),
    ("按摩师", "Massage therapist", ["推拿", "massage"]),
]
CODES = [
    "step_free_entrance", "lift", "accessible_restroom", "screen_reader_software",
    "sign_language_interpreter", "live_captioning", "text_instead_of_phone",
    "written_instructions", "job_coach", "quiet_workspace", "flexible_hours", "remote_work",
]  # fmt: skip
CENTRES = ["heping", "xinhua", "donghu", "xihu", "nanyuan", "beiguan", "changan", "wenhua"]
MODES = ["on_site", "hybrid", "remote", "现场", "远程"]
SCHEDULES = ["full_time", "part_time", "flexible", "全职", "兼职"]
COLUMNS = [
    "external_id", "employer_uscc", "title", "description", "required_skills",
    "optional_skills", "location_text", "centre", "lat", "lon", "work_mode", "schedule",
    "wage_min", "wage_max", "openings", "expires_at", "offers", "status",
]  # fmt: skip


def employer_usccs(k: int) -> list[str]:
    """k valid credit codes, the same for every run."""
    out = []
    for i in range(k):
        body = f"91330106MA{i:07d}"
        out.append(body + check_char(body))
    return out


def rows(
    n: int, employers: list[str], *, bad: float, duplicates: float, seed: int
) -> Iterator[dict[str, Any]]:
    """n rows as dicts of the canonical columns."""
    rng = random.Random(seed)
    for i in range(n):
        zh, en, skills = TITLES[i % len(TITLES)]
        dup = i > 0 and rng.random() < duplicates
        ext = f"EXT-{rng.randrange(i):07d}" if dup else f"EXT-{i:07d}"
        offers = rng.sample(CODES, rng.randint(0, 4))
        if rng.random() < bad:
            offers.append("no_such_accommodation")
        wage = rng.randrange(3000, 9000, 100)
        yield {
            "external_id": ext,
            "employer_uscc": employers[i % len(employers)],
            "title": f"{zh} {en} {i}",
            "description": f"{zh}，负责日常工作 / {en}, day-to-day work. 岗位 {i}",
            "required_skills": skills,
            "optional_skills": ["Word"] if i % 3 == 0 else [],
            "location_text": f"{CENTRES[i % len(CENTRES)]} 路 {i % 200} 号",
            "centre": CENTRES[i % len(CENTRES)],
            "lat": round(30.24 + rng.random() * 0.06, 5),
            "lon": round(120.13 + rng.random() * 0.06, 5),
            "work_mode": MODES[i % len(MODES)],
            "schedule": SCHEDULES[i % len(SCHEDULES)],
            "wage_min": wage,
            "wage_max": wage + 1500,
            "openings": 1 + i % 5,
            "expires_at": "2099-12-31",
            "offers": [f"{c}:arrangeable" if j % 2 else c for j, c in enumerate(offers)],
            "status": "open",
        }


def write(
    path: Path,
    n: int,
    *,
    fmt: str = "csv",
    encoding: str = "utf-8",
    employers: int = 50,
    bad: float = 0.0,
    duplicates: float = 0.0,
    seed: int = 7,
) -> list[str]:
    """Write the file; returns the employers' credit codes it uses."""
    codes = employer_usccs(employers)
    with path.open("w", encoding=encoding, newline="") as out:
        if fmt == "csv":
            writer = csv.writer(out)
            writer.writerow(COLUMNS)
            for row in rows(n, codes, bad=bad, duplicates=duplicates, seed=seed):
                writer.writerow([";".join(v) if isinstance(v, list) else v for v in row.values()])
        else:
            for row in rows(n, codes, bad=bad, duplicates=duplicates, seed=seed):
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    parser.add_argument("--encoding", choices=["utf-8", "gb18030"], default="utf-8")
    parser.add_argument("--employers", type=int, default=50)
    parser.add_argument("--bad", type=float, default=0.0)
    parser.add_argument("--duplicates", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    write(
        args.out,
        args.rows,
        fmt=args.format,
        encoding=args.encoding,
        employers=args.employers,
        bad=args.bad,
        duplicates=args.duplicates,
        seed=args.seed,
    )
    print(f"{args.rows} rows written to {args.out}")


if __name__ == "__main__":
    main()
