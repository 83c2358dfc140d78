package com.example;

import static org.junit.Assert.assertEquals;

import org.junit.Ignore;
import org.junit.Test;

public class CalcTest {
    @Test
    public void adds() {
        System.out.println("adding 2 and 3");
        assertEquals(5, Calc.add(2, 3));
    }

    @Test
    public void failsAnAssertion() {
        assertEquals("two and two", 5, Calc.add(2, 2));
    }

    @Test
    public void errorsOnDivisionByZero() {
        Calc.divide(1, 0);
    }

    @Ignore("not implemented yet")
    @Test
    public void skipped() {
    }
}
