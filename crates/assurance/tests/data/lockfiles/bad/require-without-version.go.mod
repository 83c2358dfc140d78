module example.com/m

require (
	golang.org/x/text
)
