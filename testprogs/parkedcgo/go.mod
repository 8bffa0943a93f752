module gotrace.test/parkedcgo

go 1.15
