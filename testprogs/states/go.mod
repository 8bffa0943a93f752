module gotrace.test/states

go 1.15
