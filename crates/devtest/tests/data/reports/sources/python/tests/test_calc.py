import pytest

import calc


@pytest.fixture
def broken():
    raise RuntimeError("fixture setup failed")


def test_add_passes():
    print("adding 2 and 3")
    assert calc.add(2, 3) == 5


def test_classify_fails():
    assert calc.classify(-1) == "positive"


def test_divide_errors(broken):
    assert calc.divide(1, 0) == 0


@pytest.mark.skip(reason="not implemented yet")
def test_skipped():
    assert calc.classify(0) == "zero"
