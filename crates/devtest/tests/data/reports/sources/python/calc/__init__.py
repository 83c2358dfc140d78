"""A tiny module to test."""


def add(a, b):
    return a + b


def classify(n):
    if n < 0:
        return "negative"
    elif n == 0:
        return "zero"
    return "positive"


def divide(a, b):
    if b == 0:
        raise ZeroDivisionError("b must not be zero")
    return a / b


def unused(x):
    for i in range(x):
        if i % 2:
            print(i)
    return x
