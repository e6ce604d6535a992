"""China's unified social credit code (统一社会信用代码, GB 32100-2015)."""

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_char(first17: str) -> str:
    """The 18th character for the first 17."""
    total = sum(CHARSET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def is_valid(code: str) -> bool:
    """True for an 18-character code with a correct check character."""
    if len(code) != 18 or any(c not in CHARSET for c in code):
        return False
    return check_char(code[:17]) == code[17]


def is_public_body(code: str) -> bool:
    """True when the code names a government body, public institution or mass organisation
    (登记管理部门码 "1", 机构编制) or a social organisation (社会团体, 民办非企业单位, 基金会:
    "5", 民政). GB 32100-2015, 表 1. Enterprises, sole traders and cooperatives are
    registered by market regulation ("9")."""
    return code[:1] in ("1", "5")
