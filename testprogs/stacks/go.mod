module gotrace.test/stacks

go 1.15
