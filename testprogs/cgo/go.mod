module gotrace.test/cgo

go 1.15
