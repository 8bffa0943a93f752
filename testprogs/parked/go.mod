module gotrace.test/parked

go 1.18
