module gotrace.test/args

go 1.18
