"""统一社会信用代码 (unified social credit code, GB 32100-2015) validation.

18 characters from a 31-symbol alphabet (digits and capitals without I, O, Z, S, V):
registration authority (1), organisation type (1), administrative division (6),
organisation code (9), check character (1). The check character makes the
weighted sum of all 18 values, weights 3^i mod 31, a multiple of 31.
"""

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1, 3, 9, 27, 19, 26, 16, ...


def check_character(first17: str) -> str:
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def problem(code: str) -> str | None:
    """Why ``code`` is not a valid credit code (in Chinese), or None if it is valid."""
    if len(code) != 18:
        return f"统一社会信用代码应为 18 位，实际 {len(code)} 位"
    bad = sorted({ch for ch in code if ch not in _VALUE})
    if bad:
        return f"统一社会信用代码含有非法字符：{''.join(bad)}"
    if check_character(code[:17]) != code[17]:
        return "统一社会信用代码校验位不正确"
    return None


def is_valid(code: str) -> bool:
    return problem(code) is None


def normalise(code: str) -> str:
    """Upper-case and strip spaces and full-width forms that phones' keyboards produce."""
    out = []
    for ch in code.strip():
        if "\uff01" <= ch <= "\uff5e":
            ch = chr(ord(ch) - 0xFEE0)
        if not ch.isspace():
            out.append(ch.upper())
    return "".join(out)
