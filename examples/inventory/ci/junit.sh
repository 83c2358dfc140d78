#!/usr/bin/env bash
# Turns `cargo test` output (libtest's "test NAME ... ok|FAILED|ignored" lines)
# on stdin into a JUnit XML report on stdout.
set -euo pipefail
awk '
  function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); gsub(/"/, "\\&quot;", s); return s }
  /^test .* \.\.\. (ok|FAILED|ignored)$/ {
    name = $2; result = $NF; n++
    if (result == "FAILED") { failures++ } else if (result == "ignored") { skipped++ }
    cases[n] = name; results[n] = result
  }
  END {
    printf "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    printf "<testsuites tests=\"%d\" failures=\"%d\" skipped=\"%d\">\n", n, failures, skipped
    printf "  <testsuite name=\"inventory\" tests=\"%d\" failures=\"%d\" skipped=\"%d\">\n", n, failures, skipped
    for (i = 1; i <= n; i++) {
      printf "    <testcase classname=\"inventory\" name=\"%s\"", esc(cases[i])
      if (results[i] == "FAILED") { printf "><failure message=\"test failed\"/></testcase>\n" }
      else if (results[i] == "ignored") { printf "><skipped/></testcase>\n" }
      else { printf "/>\n" }
    }
    printf "  </testsuite>\n</testsuites>\n"
  }'
