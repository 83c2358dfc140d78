function add(a, b) {
  return a + b;
}

function classify(n) {
  if (n < 0) {
    return "negative";
  } else if (n === 0) {
    return "zero";
  }
  return "positive";
}

function divide(a, b) {
  if (b === 0) {
    throw new RangeError("b must not be zero");
  }
  return a / b;
}

module.exports = { add, classify, divide };
