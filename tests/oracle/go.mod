module gotrace.test/oracle

go 1.21
