module briansmith.org/webpki-test-certs

go 1.17

require golang.org/x/crypto v0.0.0-20211117183948-ae814b36b871
