module gotrace.test/goroutines

go 1.18
