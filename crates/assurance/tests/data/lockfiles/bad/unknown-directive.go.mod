module example.com/m

go 1.21

requir golang.org/x/text v0.3.0
