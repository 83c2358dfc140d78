const { add, classify, divide } = require("./calc");

describe("calc", () => {
  test("adds", () => {
    console.log("adding 2 and 3");
    expect(add(2, 3)).toBe(5);
  });

  test("classifies", () => {
    expect(classify(-1)).toBe("positive");
  });

  test("divides", () => {
    expect(divide(1, 0)).toBe(0);
  });

  test.skip("later", () => {
    expect(classify(0)).toBe("zero");
  });
});
