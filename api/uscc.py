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


def is_enterprise(code: str) -> bool:
    """True when the code names an enterprise (企业): registered by market regulation
    (登记管理部门码 "9", 工商) as the organisation kind "1" (企业), not a sole trader ("92"
    个体工商户), a farmers' cooperative ("93"), a government body or public institution
    ("1x", 机构编制) or a social organisation ("5x", 民政). GB 32100-2015, 表 1."""
    return code[:2] == "91"
