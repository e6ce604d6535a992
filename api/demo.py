"""Realistic, bilingual demo data: seekers, employers, postings, trainings, staff."""

import random
from dataclasses import dataclass
from datetime import date, timedelta

from faker import Faker
from sqlmodel import Session, col, select

from api.crypto import seal
from api.schemas.privacy import CATEGORY_DIGIT, SensitiveData
from api.security import hash_password
from api.services.consents import HEALTH_NEEDS, SENSITIVE_PROFILE, health_codes
from api.services.privacy import CONSENT_TEXTS
from api.settings import Settings
from api.uscc import CHARSET, check_char
from models import (
    AccessibilityCheck,
    AccessibilityFinding,
    Account,
    Centre,
    Consent,
    Employer,
    Posting,
    PostingOffer,
    SeekerNeed,
    SeekerProfile,
    SeekerSensitive,
    Training,
)
from models.base import (
    CheckResult,
    DisabilityCategory,
    Language,
    NeedLevel,
    OfferAvailability,
    PostingStatus,
    Role,
    Schedule,
    TrainingStatus,
    WorkMode,
    utcnow,
)

DEMO_PASSWORD = "jobmatch-demo-2026"  # noqa: S105 - printed on purpose: demo logins
DEMO_DOMAIN = "demo.jobmatch.cn"


@dataclass(frozen=True)
class DemoSizes:
    seekers: int = 200
    employers: int = 50
    postings: int = 300
    trainings: int = 30


@dataclass(frozen=True)
class Occupation:
    title_zh: str
    title_en: str
    skills: tuple[str, ...]
    optional: tuple[str, ...]
    duty_zh: str
    duty_en: str
    remote_ok: bool


OCCUPATIONS = (
    Occupation(
        "数据录入员",
        "Data entry clerk",
        ("数据录入", "Excel", "打字"),
        ("Word", "档案管理"),
        "录入和核对业务数据，整理电子表格。",
        "Enter and check business data; keep spreadsheets tidy.",
        True,
    ),
    Occupation(
        "客服专员（在线）",
        "Online customer service agent",
        ("在线客服", "沟通", "打字"),
        ("CRM", "英语"),
        "通过在线聊天和邮件解答客户问题。",
        "Answer customer questions by chat and e-mail.",
        True,
    ),
    Occupation(
        "会计助理",
        "Accounting assistant",
        ("会计", "Excel", "财务软件"),
        ("税务", "用友"),
        "协助记账、报销审核和月末结账。",
        "Help with bookkeeping, expense checks and month-end close.",
        False,
    ),
    Occupation(
        "软件测试工程师",
        "Software tester",
        ("软件测试", "测试用例", "Python"),
        ("SQL", "Selenium"),
        "编写测试用例，执行功能测试并记录缺陷。",
        "Write test cases, run functional tests and log defects.",
        True,
    ),
    Occupation(
        "无障碍测试员",
        "Accessibility tester",
        ("无障碍测试", "读屏软件", "WCAG"),
        ("HTML", "报告写作"),
        "使用读屏软件检查网站和应用的无障碍问题。",
        "Check websites and apps for accessibility issues with screen readers.",
        True,
    ),
    Occupation(
        "保健按摩师",
        "Massage therapist",
        ("按摩", "推拿", "中医基础"),
        ("客户服务",),
        "为顾客提供保健按摩服务。",
        "Give therapeutic massage to clients.",
        False,
    ),
    Occupation(
        "包装工",
        "Packing worker",
        ("包装", "质量检查"),
        ("仓储",),
        "按标准包装产品并检查质量。",
        "Pack products to standard and check quality.",
        False,
    ),
    Occupation(
        "烘焙师助理",
        "Bakery assistant",
        ("烘焙", "食品卫生"),
        ("裱花",),
        "协助制作面包和糕点，保持操作间整洁。",
        "Help make bread and pastries; keep the kitchen clean.",
        False,
    ),
    Occupation(
        "图书馆助理",
        "Library assistant",
        ("图书整理", "档案管理"),
        ("电脑操作",),
        "整理上架图书，协助读者借还。",
        "Shelve books and help readers borrow and return.",
        False,
    ),
    Occupation(
        "平面设计师",
        "Graphic designer",
        ("Photoshop", "Illustrator", "平面设计"),
        ("排版", "摄影"),
        "设计海报、宣传册和社交媒体图片。",
        "Design posters, brochures and social media images.",
        True,
    ),
    Occupation(
        "仓库拣货员",
        "Warehouse picker",
        ("拣货", "仓储", "扫码枪"),
        ("叉车",),
        "按订单拣选货物并扫码出库。",
        "Pick goods by order and scan them out.",
        False,
    ),
    Occupation(
        "保洁员",
        "Cleaner",
        ("清洁", "垃圾分类"),
        ("绿化养护",),
        "负责办公区域日常清洁。",
        "Keep office areas clean every day.",
        False,
    ),
    Occupation(
        "园艺工",
        "Gardener",
        ("园艺", "绿化养护"),
        ("植物识别",),
        "养护园区植物和草坪。",
        "Look after plants and lawns on site.",
        False,
    ),
    Occupation(
        "翻译（中英）",
        "Chinese–English translator",
        ("翻译", "英语", "中文写作"),
        ("本地化", "Trados"),
        "翻译业务文件和网站内容。",
        "Translate business documents and website content.",
        True,
    ),
    Occupation(
        "行政文员",
        "Administrative clerk",
        ("办公软件", "文件管理", "Word"),
        ("会议安排",),
        "处理文件、安排会议、管理办公用品。",
        "Handle documents, arrange meetings, manage supplies.",
        False,
    ),
    Occupation(
        "电商运营助理",
        "E-commerce operations assistant",
        ("电商运营", "Excel", "商品上架"),
        ("直播", "文案"),
        "维护网店商品信息和订单。",
        "Maintain online shop listings and orders.",
        True,
    ),
    Occupation(
        "前端开发工程师",
        "Front-end developer",
        ("JavaScript", "HTML", "CSS"),
        ("React", "无障碍设计"),
        "开发网页界面，保证可访问性。",
        "Build web interfaces that everyone can use.",
        True,
    ),
    Occupation(
        "手工艺制作员",
        "Handicraft maker",
        ("手工编织", "手工艺"),
        ("美术",),
        "制作编织品和手工艺品。",
        "Make woven goods and handicrafts.",
        False,
    ),
    Occupation(
        "洗车工",
        "Car wash attendant",
        ("洗车", "清洁"),
        ("客户服务",),
        "清洗车辆内外。",
        "Wash cars inside and out.",
        False,
    ),
    Occupation(
        "咖啡师",
        "Barista",
        ("咖啡制作", "收银", "食品卫生"),
        ("拉花",),
        "制作咖啡饮品并接待顾客。",
        "Make coffee drinks and serve customers.",
        False,
    ),
    Occupation(
        "社区服务助理",
        "Community service assistant",
        ("社区服务", "沟通", "电脑操作"),
        ("社会工作",),
        "协助社区开展服务活动、登记信息。",
        "Help run community services and keep records.",
        False,
    ),
    Occupation(
        "视频剪辑师",
        "Video editor",
        ("视频剪辑", "Premiere", "字幕制作"),
        ("After Effects",),
        "剪辑视频并添加字幕。",
        "Edit videos and add captions.",
        True,
    ),
    Occupation(
        "呼叫中心文字客服",
        "Text-based contact centre agent",
        ("文字客服", "打字", "沟通"),
        ("投诉处理",),
        "通过短信和在线平台处理客户咨询。",
        "Handle customer requests over SMS and online chat.",
        True,
    ),
    Occupation(
        "质检员",
        "Quality inspector",
        ("质量检查", "测量工具"),
        ("ISO9001",),
        "按标准检查产品质量并记录结果。",
        "Inspect product quality to standard and record results.",
        False,
    ),
)

NEEDS_BY_CATEGORY: dict[DisabilityCategory, tuple[str, ...]] = {
    DisabilityCategory.vision: (
        "screen_reader_software",
        "screen_magnification",
        "braille_large_print",
        "accessible_documents",
        "accessible_transit_nearby",
    ),
    DisabilityCategory.hearing: (
        "sign_language_interpreter",
        "text_instead_of_phone",
        "live_captioning",
        "visual_vibrating_alarms",
        "interview_with_interpreter",
    ),
    DisabilityCategory.speech: (
        "chat_instead_of_phone",
        "aac_device_support",
        "questions_in_advance",
    ),
    DisabilityCategory.physical: (
        "step_free_entrance",
        "lift",
        "accessible_restroom",
        "accessible_parking",
        "height_adjustable_desk",
        "short_walking_distances",
    ),
    DisabilityCategory.intellectual: (
        "written_instructions",
        "job_coach",
        "extra_training_time",
        "predictable_routine",
    ),
    DisabilityCategory.mental: (
        "quiet_workspace",
        "flexible_schedule",
        "extra_breaks",
        "leave_for_treatment",
        "predictable_routine",
    ),
}
CATEGORY_WEIGHTS = (
    (DisabilityCategory.physical, 35),
    (DisabilityCategory.hearing, 18),
    (DisabilityCategory.vision, 15),
    (DisabilityCategory.intellectual, 10),
    (DisabilityCategory.mental, 10),
    (DisabilityCategory.speech, 5),
    (DisabilityCategory.multiple, 7),
)
GENERAL_OFFERS = (
    "step_free_entrance",
    "lift",
    "accessible_restroom",
    "flexible_hours",
    "written_instructions",
    "text_instead_of_phone",
    "quiet_workspace",
    "height_adjustable_desk",
    "screen_reader_software",
    "extra_breaks",
    "job_coach",
    "questions_in_advance",
    "accessible_transit_nearby",
)


def database_is_empty(session: Session) -> bool:
    """True when no account exists yet."""
    return session.exec(select(Account.id).limit(1)).first() is None


def _uscc(rng: random.Random) -> str:
    body = (
        "91"
        + "".join(rng.choice("0123456789") for _ in range(6))
        + "".join(rng.choice(CHARSET) for _ in range(9))
    )
    return body + check_char(body)


def _near(rng: random.Random, centre: Centre, spread_km: float) -> tuple[float, float]:
    # ~111 km per degree of latitude; longitude shrinks with cos(lat) ~ 0.87 here.
    dlat = rng.gauss(0, spread_km / 111.0)
    dlon = rng.gauss(0, spread_km / (111.0 * 0.87))
    return round((centre.lat or 30.27) + dlat, 5), round((centre.lon or 120.15) + dlon, 5)


def load_demo_data(
    session: Session, sizes: DemoSizes, *, seed: int, settings: Settings
) -> list[tuple[str, str, str]]:
    """Create demo rows in the session (not committed) and return (role, email, password)."""
    rng = random.Random(seed)
    fake_zh = Faker("zh_CN")
    fake_en = Faker("en_US")
    fake_zh.seed_instance(seed)
    fake_en.seed_instance(seed + 1)
    now = utcnow()
    password_hash = hash_password(DEMO_PASSWORD)  # one hash: every demo account shares it
    centres = list(session.exec(select(Centre).order_by(col(Centre.id))))
    health_related = health_codes(session)
    if not centres:
        raise RuntimeError("no centres: run `jobmatch db upgrade` first")
    logins: list[tuple[str, str, str]] = []

    def account(email: str, role: Role, name: str, **kw: object) -> Account:
        acc = Account(email=email, password_hash=password_hash, role=role, display_name=name, **kw)  # type: ignore[arg-type]
        session.add(acc)
        return acc

    admin = account(f"admin@{DEMO_DOMAIN}", Role.admin, "区残联管理员 Federation admin")
    logins.append(("admin", admin.email, DEMO_PASSWORD))
    for i, centre in enumerate(centres):
        cw = account(
            f"caseworker.{centre.code}@{DEMO_DOMAIN}",
            Role.caseworker,
            f"{fake_zh.name()}（{centre.name_zh}）",
            centre_id=centre.id,
            language=Language.en if i % 4 == 3 else Language.zh,
        )
        if i < 2:
            logins.append(("caseworker", cw.email, DEMO_PASSWORD))
    volunteer = account(
        f"volunteer@{DEMO_DOMAIN}", Role.volunteer, "无障碍监督员 Accessibility volunteer"
    )
    logins.append(("volunteer", volunteer.email, DEMO_PASSWORD))
    session.flush()

    # Employers, each with one account.
    employers: list[Employer] = []
    for i in range(sizes.employers):
        centre = rng.choice(centres)
        lat, lon = _near(rng, centre, 2.0)
        english = rng.random() < 0.2
        name = fake_en.company() + " (China) Co., Ltd." if english else fake_zh.company()
        staff = rng.choice([12, 25, 45, 80, 150, 300, 800, 2000])
        emp = Employer(
            name=name,
            uscc=_uscc(rng),
            staff_count=staff,
            # Disabled staff hired before the service, by rule of thumb (no draw from rng:
            # the rest of the demo data stays as it was).
            disabled_staff_grade_1_2=staff // 400,
            disabled_staff_grade_3_4=staff // 150,
            industry=rng.choice(
                [
                    "制造业 manufacturing",
                    "零售 retail",
                    "信息技术 IT",
                    "餐饮 catering",
                    "物流 logistics",
                    "公共服务 public service",
                ]
            ),
            address=fake_zh.street_address(),
            contact_email=f"hr{i + 1:02d}@{DEMO_DOMAIN}",
            lat=lat,
            lon=lon,
            centre_id=centre.id,
            verified=rng.random() < 0.7,
            verified_at=now if rng.random() < 0.7 else None,
        )
        session.add(emp)
        employers.append(emp)
    session.flush()
    for i, emp in enumerate(employers):
        acc = account(
            f"employer{i + 1:02d}@{DEMO_DOMAIN}", Role.employer, emp.name[:100], employer_id=emp.id
        )
        if i < 2:
            logins.append(("employer", acc.email, DEMO_PASSWORD))

    # Postings with offers.
    for i in range(sizes.postings):
        emp = employers[i % len(employers)]
        occ = rng.choice(OCCUPATIONS)
        english = emp.name.endswith("Ltd.") or rng.random() < 0.15
        mixed = not english and rng.random() < 0.3
        title = (
            occ.title_en
            if english
            else (f"{occ.title_zh} {occ.title_en}" if mixed else occ.title_zh)
        )
        desc = occ.duty_en if english else occ.duty_zh + (f" {occ.duty_en}" if mixed else "")
        mode = (
            rng.choice([WorkMode.remote, WorkMode.hybrid, WorkMode.on_site])
            if occ.remote_ok
            else WorkMode.on_site
        )
        wage_min = rng.choice([2800, 3500, 4200, 5000, 6500, 8000])
        status = rng.choices(
            [PostingStatus.open, PostingStatus.draft, PostingStatus.closed], weights=[85, 7, 8]
        )[0]
        posting = Posting(
            employer_id=emp.id or 0,
            centre_id=emp.centre_id,
            title=title,
            description=desc
            + (" 欢迎残疾人朋友应聘。" if not english else " Disabled applicants are welcome."),
            required_skills=list(occ.skills),
            optional_skills=list(occ.optional),
            location_text=emp.address,
            lat=emp.lat,
            lon=emp.lon,
            work_mode=mode,
            schedule=rng.choices(
                [Schedule.full_time, Schedule.part_time, Schedule.flexible], weights=[60, 25, 15]
            )[0],
            wage_min=wage_min,
            wage_max=wage_min + rng.choice([500, 1000, 2000, 3000]),
            openings=rng.choice([1, 1, 2, 3, 5]),
            status=status,
            expires_at=now + timedelta(days=rng.randint(7, 90)),
            created_at=now - timedelta(days=rng.randint(0, 30)),
        )
        session.add(posting)
        session.flush()
        # A workplace offers some general accommodations and, like employers who have taken
        # on disabled staff before, whole sets suited to one to three kinds of disability.
        offered = set(rng.sample(GENERAL_OFFERS, rng.randint(2, 6)))
        for kind in rng.sample(list(NEEDS_BY_CATEGORY), rng.randint(1, 3)):
            kind_offers = NEEDS_BY_CATEGORY[kind]
            offered |= set(rng.sample(kind_offers, rng.randint(1, len(kind_offers))))
        for code in sorted(offered):
            session.add(
                PostingOffer(
                    posting_id=posting.id or 0,
                    code=code,
                    availability=rng.choices(
                        [OfferAvailability.available, OfferAvailability.arrangeable],
                        weights=[65, 35],
                    )[0],
                )
            )

    # Seekers with needs, and (for most) consented sensitive data.
    categories = [c for c, _ in CATEGORY_WEIGHTS]
    weights = [w for _, w in CATEGORY_WEIGHTS]
    for i in range(sizes.seekers):
        centre = centres[i % len(centres)]
        english = rng.random() < 0.15
        occ_a, occ_b = rng.sample(OCCUPATIONS, 2)
        name = fake_en.name() if english else fake_zh.name()
        acc = account(
            f"seeker{i + 1:03d}@{DEMO_DOMAIN}",
            Role.seeker,
            name,
            centre_id=centre.id,
            language=Language.en if english else Language.zh,
        )
        if i < 2:
            logins.append(("seeker", acc.email, DEMO_PASSWORD))
        session.flush()
        lat, lon = _near(rng, centre, 1.5)
        skills = list(rng.sample(occ_a.skills, min(len(occ_a.skills), rng.randint(1, 3))))
        skills += rng.sample(occ_b.skills + occ_b.optional, 1)
        years = rng.randint(0, 15)
        experience = (
            f"{years} years as {occ_a.title_en.lower()}. {occ_a.duty_en}"
            if english
            else f"做过{years}年{occ_a.title_zh}。{occ_a.duty_zh}"
        )
        category = rng.choices(categories, weights=weights)[0]
        profile = SeekerProfile(
            account_id=acc.id or 0,
            centre_id=centre.id or 0,
            full_name=name,
            phone=fake_zh.phone_number(),
            headline=occ_a.title_en if english else occ_a.title_zh,
            skills=skills,
            experience=experience,
            education=rng.choice(
                [
                    "初中 junior secondary",
                    "高中 senior secondary",
                    "中专 vocational school",
                    "大专 college",
                    "本科 bachelor",
                ]
            ),
            desired_roles=[occ_a.title_en if english else occ_a.title_zh],
            location_text=fake_zh.street_address(),
            lat=lat,
            lon=lon,
            commute_limit_km=None if i < 2 else rng.choice([None, 3.0, 5.0, 10.0, 20.0]),
            schedule=rng.choices(
                [Schedule.any, Schedule.full_time, Schedule.part_time, Schedule.flexible],
                weights=[40, 30, 20, 10],
            )[0],
            work_modes=rng.choice(
                [
                    [WorkMode.on_site, WorkMode.hybrid, WorkMode.remote],
                    [WorkMode.remote],
                    [WorkMode.on_site],
                    [WorkMode.hybrid, WorkMode.remote],
                ]
            )
            if i >= 2
            else [WorkMode.on_site, WorkMode.hybrid, WorkMode.remote],
            expected_wage=rng.choice([None, 3000, 4000, 5000, 6000, 8000]),
            language=Language.en if english else Language.zh,
            created_at=now - timedelta(days=rng.randint(0, 120)),
        )
        session.add(profile)
        session.flush()
        pool = (
            sorted({c for cs in NEEDS_BY_CATEGORY.values() for c in cs})
            if category == DisabilityCategory.multiple
            else NEEDS_BY_CATEGORY[category]
        )
        chosen = rng.sample(pool, min(len(pool), rng.randint(0, 3)))
        if any(code in health_related for code in chosen):
            # Health-related needs are kept only with the seeker's separate consent.
            session.add(
                Consent(
                    seeker_id=profile.id or 0,
                    purpose=HEALTH_NEEDS,
                    scope=list(CONSENT_TEXTS[HEALTH_NEEDS].scope),
                    text_version=CONSENT_TEXTS[HEALTH_NEEDS].version,
                )
            )
        for j, code in enumerate(chosen):
            session.add(
                SeekerNeed(
                    seeker_id=profile.id or 0,
                    code=code,
                    # The printed demo seekers state preferences only, so a first look at
                    # the demo always shows matches; everyone else may have an essential need.
                    level=NeedLevel.essential if j == 0 and i >= 2 else NeedLevel.preferred,
                )
            )
        if rng.random() < 0.8:
            text = CONSENT_TEXTS[SENSITIVE_PROFILE]
            consent = Consent(
                seeker_id=profile.id or 0,
                purpose=SENSITIVE_PROFILE,
                scope=list(text.scope),
                text_version=text.version,
            )
            session.add(consent)
            session.flush()
            grade = rng.choices([1, 2, 3, 4], weights=[10, 25, 35, 30])[0]
            id_number = f"3301{rng.randint(10**12, 10**13 - 1)}{rng.choice('0123456789X')}"
            data = SensitiveData(
                disability_category=category,
                disability_grade=grade,
                certificate_number=f"{id_number}{CATEGORY_DIGIT[category]}{grade}",
            )
            session.add(
                SeekerSensitive(
                    seeker_id=profile.id or 0,
                    consent_id=consent.id,
                    sealed=seal(settings, data.model_dump_json()),
                )
            )

    # Trainings.
    today = date.today()
    for i in range(sizes.trainings):
        centre = centres[i % len(centres)]
        occ = rng.choice(OCCUPATIONS)
        start = today + timedelta(days=rng.randint(-10, 60))
        english = rng.random() < 0.2
        session.add(
            Training(
                title=(f"{occ.title_en} training" if english else f"{occ.title_zh}技能培训"),
                description=(
                    f"Hands-on course: {occ.duty_en}" if english else f"实操课程：{occ.duty_zh}"
                ),
                skills_taught=list(occ.skills),
                provider=f"{centre.name_zh}职业培训基地",
                location_text=centre.address,
                lat=centre.lat,
                lon=centre.lon,
                centre_id=centre.id,
                starts_on=start,
                ends_on=start + timedelta(days=rng.choice([5, 10, 20, 30])),
                capacity=rng.choice([10, 15, 20, 30]),
                accessibility=rng.sample(GENERAL_OFFERS, rng.randint(2, 5)),
                status=TrainingStatus.open if start >= today else TrainingStatus.closed,
            )
        )
    session.flush()

    # Accessibility checks by the volunteer: a few workplaces verified, one claim disputed.
    checked = session.exec(
        select(Posting)
        .where(Posting.status == PostingStatus.open)
        .order_by(col(Posting.id))
        .limit(6)
    ).all()
    for n, posting in enumerate(checked):
        offers = session.exec(
            select(PostingOffer).where(PostingOffer.posting_id == posting.id)
        ).all()
        if not offers:
            continue
        visited = today - timedelta(days=rng.randint(3, 200))
        check = AccessibilityCheck(
            posting_id=posting.id or 0,
            employer_id=posting.employer_id,
            checked_by=volunteer.id or 0,
            checker_role=Role.volunteer.value,
            visited_on=visited,
            note="实地走访 on-site visit",
            expires_at=utcnow() + timedelta(days=365 - (today - visited).days),
        )
        session.add(check)
        session.flush()
        for k, offer in enumerate(offers[:4]):
            disputed = n == 2 and k == 0
            session.add(
                AccessibilityFinding(
                    check_id=check.id or 0,
                    posting_id=posting.id or 0,
                    code=offer.code,
                    result=CheckResult.partly if disputed else CheckResult.confirmed,
                    note="只在一楼 ground floor only" if disputed else "",
                )
            )
    session.flush()
    return logins
